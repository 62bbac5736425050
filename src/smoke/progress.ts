/**
 * Progress while smoke works: an ora spinner on stderr when it is a terminal and --json is
 * off ("⠋ GET /trac 0.4 s"); everywhere else silent, so pipes and CI logs stay clean. ora
 * restores the cursor itself when the process ends, Ctrl-C included.
 */
export interface Progress {
  step: (text: string) => void;
  stop: () => void;
}

export const silentProgress: Progress = { step: () => {}, stop: () => {} };

export async function spinner(stream: NodeJS.WriteStream): Promise<Progress> {
  const { default: ora } = await import('ora');
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const indicator = ora({ stream, discardStdin: false }).start();
  let text = '';
  const timer = setInterval(() => {
    indicator.text = `${text} ${elapsed()}`;
  }, 100);
  timer.unref();
  return {
    step: (next) => {
      text = next;
      indicator.text = `${text} ${elapsed()}`;
    },
    stop: () => {
      clearInterval(timer);
      indicator.stop();
    },
  };
}
