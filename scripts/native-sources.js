#!/usr/bin/env node
// Prints the sources of one native module or test program from native/sources.json, the one
// source list, space-separated (binding.gyp's <!@(...) and the shell scripts read it):
//   node scripts/native-sources.js int8_detect_core
//   node scripts/native-sources.js --program calibration_test
'use strict';
const path = require('node:path');

const list = require(path.join(__dirname, '..', 'native', 'sources.json'));
const args = process.argv.slice(2);
const program = args[0] === '--program';
const name = program ? args[1] : args[0];
const table = program ? list.programs : list.modules;
if (!name || !Object.hasOwn(table, name)) {
  console.error(`native-sources: expected one of ${Object.keys(table).join(', ')}${program ? ' after --program' : ' (or --program NAME)'} but received ${name === undefined ? 'nothing' : JSON.stringify(name)}`);
  process.exit(2);
}
const files = [];
for (const group of table[name]) {
  if (!Object.hasOwn(list.groups, group)) {
    console.error(`native-sources: ${name} names the group '${group}', which native/sources.json does not define`);
    process.exit(2);
  }
  for (const file of list.groups[group]) if (!files.includes(file)) files.push(file);
}
process.stdout.write(`${files.join(' ')}\n`);
