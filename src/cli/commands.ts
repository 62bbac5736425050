import { applyCommand } from './applyCommand.js';
import type { CommandSpec } from './commandSpec.js';
import { generateCommand } from './generateCommand.js';
import { inspectCommand } from './inspectCommand.js';
import { smokeCommand } from './smokeCommand.js';

/** Every command, in the order --help lists them. Add a command: one file, one line here. */
export const COMMANDS: readonly CommandSpec[] = [inspectCommand, generateCommand, smokeCommand, applyCommand];
