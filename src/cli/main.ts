#!/usr/bin/env node
import { tuneGarbageCollection } from "../gc-tuning.js";
import { runCommandLine } from "./command-line.js";

tuneGarbageCollection();

const code = await runCommandLine(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
});
process.exitCode = code;
// A command that has answered is done: a provider's socket it gave up on (an answer dripping in for minutes)
// must not keep the process alive after its report. Exit once what was written is flushed.
process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
