// Runs the GraphQL-over-HTTP spec's own server audit (graphql-http) against a URL and prints one JSON
// line: {"MUST": [passed, total], "SHOULD": [...], "MAY": [...], "failures": [...]}.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
const results = await auditServer({ url });
const counts = { MUST: [0, 0], SHOULD: [0, 0], MAY: [0, 0] };
const failures = [];
for (const r of results) {
  const level = r.name.split(' ')[0];
  counts[level][1] += 1;
  if (r.status === 'ok') counts[level][0] += 1;
  else failures.push({ id: r.id, name: r.name, status: r.status, reason: r.reason });
}
console.log(JSON.stringify({ ...counts, failures }));
