/**
 * The options parseIni read from one block of lines (those between a [section] header at the
 * start of a line and the next line that starts with "["), kept by the block's text: the
 * trac.ini files of a parent directory share most blocks word for word (initenv writes the same
 * sections for every environment), and a block seen before is not read again. A block's options
 * depend on its text alone (every option ends by the next line that starts with "[" at the
 * latest), unless it holds a header of its own (an indented one) or an error: those are not kept.
 * Only for files without carriage returns or the characters Python and JavaScript strip apart.
 */
export interface IniBlock {
  /** The options in the order they end, with their line (1 = the line after the header) and where that line is in the block's text. */
  options: { key: string; value: string; line: number; start: number; end: number }[];
  /** The lines of the block (its text's line feeds: it starts with the header's). */
  lines: number;
}

/**
 * Blocks kept per thread. Some blocks differ in every file (the [project] name): when this many
 * are kept, all are forgotten, and the shared ones are kept again from the next file (one file in
 * ~40 read whole). A kept text and its options may hold on to the whole text of the file they
 * came from: a few hundred KiB.
 */
const MAX_BLOCKS = 64;
/** A longer block is read every time. */
export const MAX_BLOCK_CHARS = 16 * 1024;

const blocks = new Map<string, IniBlock>();
/**
 * The block found or kept at each position (the first block after a header, the second...) of
 * the last file: compared first, as strings, which costs less than hashing the text to look it up.
 */
const byPosition: { text: string; block: IniBlock }[] = [];
const MAX_POSITIONS = 256;

/** The block kept with exactly `text`, the `position`th of its file. */
export function knownBlock(text: string, position: number): IniBlock | undefined {
  const last = byPosition[position];
  if (last !== undefined && last.text === text) return last.block;
  const block = blocks.get(text);
  if (block !== undefined && position < MAX_POSITIONS) byPosition[position] = { text, block };
  return block;
}

export function keepBlock(text: string, block: IniBlock, position: number): void {
  if (text.length > MAX_BLOCK_CHARS) return;
  if (blocks.size >= MAX_BLOCKS) blocks.clear();
  blocks.set(text, block);
  if (position < MAX_POSITIONS) byPosition[position] = { text, block };
}
