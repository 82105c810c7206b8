// The npm `graphql-ws` client (as Apollo Client's GraphQLWsLink uses it) against the gateway:
// node watch.mjs <ws url> <query> <variables json> <events> [token]
// prints `ack`, then one JSON line per result, then `complete` (or `error <json>`).
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, query, variables, wanted, token] = process.argv.slice(2);
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  lazy: false,
  retryAttempts: 0,
  connectionParams: token ? { Authorization: `Bearer ${token}` } : {},
  on: { connected: () => console.log('ack') },
});
let seen = 0;
const dispose = client.subscribe(
  { query, variables: JSON.parse(variables) },
  {
    next: (result) => {
      console.log(JSON.stringify(result));
      seen += 1;
      if (seen >= Number(wanted)) {
        dispose();
        client.dispose();
        console.log('complete');
      }
    },
    error: (err) => {
      console.log('error ' + JSON.stringify(err && err.code ? { code: err.code, reason: err.reason } : String(err)));
      client.dispose();
    },
    complete: () => {
      console.log('complete');
      client.dispose();
    },
  },
);
