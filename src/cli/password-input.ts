import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { CliError } from './cli-error.js';

/** The whole of a piped stdin as the password; one trailing newline (from echo or a file) is not part of it. */
export async function readPasswordFromStdin(input: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export interface PromptStreams {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

/**
 * Asks one question on the terminal with echo off. The prompt goes to `output` (stderr by default,
 * so stdout stays clean for the result); what is typed does not. Ctrl-C or end of input cancels.
 */
export async function promptHidden(
  question: string,
  streams: PromptStreams = { input: process.stdin, output: process.stderr },
): Promise<string> {
  let muted = false;
  // readline echoes typed characters to its output: while the answer is typed, that output goes nowhere.
  const echo = new Writable({
    write(chunk: Buffer, _encoding: BufferEncoding, done: () => void) {
      if (!muted) streams.output.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: streams.input, output: echo, terminal: true });
  let closed = false;
  rl.on('close', () => (closed = true));
  rl.on('SIGINT', () => rl.close());
  try {
    return await new Promise<string>((resolve, reject) => {
      rl.once('close', () => reject(new CliError('cancelled', 130)));
      // The callback fires before close, so a settled promise ignores the later rejection.
      rl.question(question, resolve);
      muted = true;
    });
  } finally {
    muted = false;
    streams.output.write('\n');
    if (!closed) rl.close();
  }
}
