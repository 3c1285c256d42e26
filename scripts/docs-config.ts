/** `npm run docs:config`: writes docs/configuration.md. Runs compiled, from .scripts-build/scripts/. */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { configurationDoc } from "./configuration-doc.js";

const target = fileURLToPath(new URL("../../docs/configuration.md", import.meta.url));
writeFileSync(target, configurationDoc());
process.stdout.write(`wrote ${target}\n`);
