/**
 * A one-line spinner on a terminal: "⠋ starting Apache ... 0.4 s". Used only when stderr is a
 * TTY and --json is off; everywhere else progress is silent, so pipes and CI logs stay clean.
 */
export interface Progress {
  step: (text: string) => void;
  stop: () => void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export const silentProgress: Progress = { step: () => {}, stop: () => {} };

export function spinner(stream: NodeJS.WriteStream): Progress {
  const started = Date.now();
  let text = '';
  let frame = 0;
  const draw = () => {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const line = `${FRAMES[frame++ % FRAMES.length]} ${text} ${seconds} s`;
    stream.write(`\r\x1b[2K${line.slice(0, (stream.columns || 80) - 1)}`);
  };
  const timer = setInterval(draw, 80);
  timer.unref();
  // The line is cleared when the process ends however it ends (Ctrl-C included).
  const clear = () => stream.write('\r\x1b[2K');
  process.once('exit', clear);
  return {
    step: (next) => {
      text = next;
      draw();
    },
    stop: () => {
      clearInterval(timer);
      process.removeListener('exit', clear);
      clear();
    },
  };
}
