// Apollo Gateway + Apollo Server serving one supergraph file: node apollo.mjs SUPERGRAPH PORT [HOST]
// One process, like fedgate's default (The Guild's launcher forks cores-1 workers: 1 here).
import { readFileSync } from "node:fs";
import { ApolloGateway } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";

const [file, port, host = "127.0.0.1"] = process.argv.slice(2);
const gateway = new ApolloGateway({ supergraphSdl: readFileSync(file, "utf8") });
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, { listen: { port: Number(port), host } });
console.log(`apollo gateway ready at ${url}`);
