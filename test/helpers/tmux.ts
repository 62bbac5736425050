import { execa } from 'execa';

/**
 * A real pseudo-terminal for tests: one tmux server on a private socket per session, so a test
 * can type keys into a program and read its screen. kill() ends the server and everything in
 * it; call it in afterEach.
 */
export class TmuxSession {
  private constructor(readonly socket: string) {}

  static async start(command: string[], options: { cwd: string; env?: Record<string, string> }): Promise<TmuxSession> {
    const socket = `trac-deploy-test-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
    const session = new TmuxSession(socket);
    const envArgs = Object.entries(options.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    await execa('tmux', ['-L', socket, '-f', '/dev/null', 'new-session', '-d', '-s', 'test', '-x', '160', '-y', '50', '-c', options.cwd, ...envArgs, ...command], {
      stdin: 'ignore',
    });
    // Keep the pane (and its last screen) after the program exits.
    await execa('tmux', ['-L', socket, 'set-option', '-t', 'test', 'remain-on-exit', 'on']).catch(() => undefined);
    return session;
  }

  async screen(): Promise<string> {
    const result = await execa('tmux', ['-L', this.socket, 'capture-pane', '-p', '-J', '-S', '-200', '-t', 'test'], { reject: false });
    return String(result.stdout);
  }

  /** Wait until the screen shows the text (or matches); throws with the screen when it never does. */
  async waitFor(text: string | RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = await this.screen();
      if (typeof text === 'string' ? last.includes(text) : text.test(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the terminal never showed ${String(text)}; it shows:\n${last}`);
  }

  /** tmux key names ("Enter", "Down", "C-c") or literal text with literal: true. */
  async keys(keys: string[], literal = false): Promise<void> {
    await execa('tmux', ['-L', this.socket, 'send-keys', '-t', 'test', ...(literal ? ['-l'] : []), ...keys]);
  }

  async type(text: string): Promise<void> {
    await this.keys([text], true);
  }

  async kill(): Promise<void> {
    await execa('tmux', ['-L', this.socket, 'kill-server'], { reject: false });
  }
}
