import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/cli-error.js';
import { promptHidden, readPasswordFromStdin } from '../../src/cli/password-input.js';

/** A stand-in terminal: what is "typed" goes to input, and everything shown is collected from output. */
function fakeTerminal() {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  output.on('data', (chunk: Buffer) => (shown += chunk.toString()));
  // readline positions the cursor with ANSI sequences; only the visible text matters here.
  // eslint-disable-next-line no-control-regex
  return { input, output, shown: () => shown.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '') };
}

describe('promptHidden', () => {
  it('shows the question but never what is typed', async () => {
    const terminal = fakeTerminal();
    const answer = promptHidden('Password for alice: ', terminal);
    terminal.input.write('s3cret passphrase\r');
    await expect(answer).resolves.toBe('s3cret passphrase');
    expect(terminal.shown()).toBe('Password for alice: \n');
  });

  it('asks again on the same terminal', async () => {
    const terminal = fakeTerminal();
    const first = promptHidden('Password: ', terminal);
    terminal.input.write('one\r');
    await expect(first).resolves.toBe('one');
    const second = promptHidden('Repeat: ', terminal);
    terminal.input.write('two\r');
    await expect(second).resolves.toBe('two');
    expect(terminal.shown()).toBe('Password: \nRepeat: \n');
  });

  it('Ctrl-C cancels with exit code 130', async () => {
    const terminal = fakeTerminal();
    const answer = promptHidden('Password: ', terminal);
    terminal.input.write('half\x03');
    await expect(answer).rejects.toEqual(new CliError('cancelled', 130));
    expect(terminal.shown()).not.toContain('half');
  });
});

describe('readPasswordFromStdin', () => {
  it.each([
    ['a newline from echo', ['hunter2 hunter2\n'], 'hunter2 hunter2'],
    ['a CRLF', ['hunter2 hunter2\r\n'], 'hunter2 hunter2'],
    ['no newline (printf %s)', ['hunter2 ', 'hunter2'], 'hunter2 hunter2'],
    ['only one of two newlines', ['a b\n\n'], 'a b\n'],
  ])('strips %s', async (_, chunks, expected) => {
    expect(await readPasswordFromStdin(Readable.from(chunks.map((c) => Buffer.from(c))))).toBe(expected);
  });
});
