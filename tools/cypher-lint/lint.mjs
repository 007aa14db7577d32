// Offline check of Cypher statements with Neo4j's own parser and semantic analysis.
// stdin: {"schema": DbSchema, "statements": {name: cypher}}
// stdout: {name: [{severity, message, line, column}]}  (severity 1 = error, 2 = warning)
// Parameter-only diagnostics ("expected parameter ...") are dropped: values are
// supplied at run time. Handles both return shapes of lintCypherQuery (an array in
// older releases, {diagnostics, symbolTables} in newer ones).
import { lintCypherQuery, isNotParamError } from '@neo4j-cypher/language-support';

let input = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) input += chunk;
const { schema, statements } = JSON.parse(input);

const out = {};
for (const [name, query] of Object.entries(statements)) {
  const result = lintCypherQuery(query, schema);
  const diagnostics = Array.isArray(result) ? result : result.diagnostics;
  out[name] = diagnostics.filter(isNotParamError).map((d) => ({
    severity: d.severity,
    message: d.message,
    line: d.range.start.line + 1,
    column: d.range.start.character + 1,
  }));
}
process.stdout.write(JSON.stringify(out));
