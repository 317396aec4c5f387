import { describe, expect, it } from 'vitest';
import { parseDockerfile } from '../../../src/lint/dockerfile-model.js';
import { formatFindings } from '../../../src/lint/format.js';
import { parseLintConfig } from '../../../src/lint/lint-config.js';
import { failsThreshold, lintDockerfile } from '../../../src/lint/lint.js';
import { shellCommands } from '../../../src/lint/shell-commands.js';

const lint = (text: string, config = {}) => lintDockerfile(text, { file: 'Dockerfile', config }).map((f) => `${f.rule}:${f.line}`);

describe('Dockerfile model', () => {
  it('resolves ARGs declared before FROM and names stages', () => {
    const model = parseDockerfile('ARG V=3.19\nFROM alpine:${V} AS base\nFROM base\n');
    expect(model.stages.map((s) => [s.image, s.imageTag, s.name, s.fromStage])).toEqual([
      ['alpine:3.19', '3.19', 'base', false],
      ['base', undefined, undefined, true],
    ]);
  });

  it('joins continuations, drops comment lines inside them, and reads heredoc bodies', () => {
    const model = parseDockerfile('FROM a:1\nRUN echo a \\\n# note\n  && echo b\nRUN <<EOF\necho c\nEOF\n');
    const runs = model.instructions.filter((i) => i.keyword === 'RUN');
    expect(runs.map((r) => r.shell)).toEqual(['echo a && echo b', 'echo c']);
    expect(runs.map((r) => [r.line, r.endLine])).toEqual([[2, 4], [5, 7]]);
  });
});

describe('shell parsing of RUN', () => {
  it('finds commands through &&, pipes, subshells, conditionals, $(...) and sh -c', () => {
    const names = shellCommands("if true; then (cd /x && pip install a); fi | tee log; echo $(npm ci); sh -c 'apk add b'").map((c) => c.name);
    expect(names).toEqual(['true', 'cd', 'pip', 'tee', 'echo', 'npm', 'sh', 'apk']);
  });

  it('does not mistake a quoted word for a command', () => {
    expect(lint('FROM alpine:3.19\nRUN echo "apk add curl"\n')).toEqual([]);
  });
});

describe('ignores, config and thresholds', () => {
  const text = 'FROM debian:12-slim\n# hadolint ignore=DL3015,DL3009\nRUN apt-get update && apt-get install -y curl=1\n';

  it('honours hadolint-style and slimify-style inline ignores on the next instruction', () => {
    expect(lint(text)).toEqual([]);
    expect(lint('FROM debian:12-slim\n# slimify ignore=DL3015,DL3009\nRUN apt-get install -y curl=1\n')).toEqual([]);
    expect(lint('# hadolint global ignore=DL3006\nFROM debian\n')).toEqual(['SL1001:2']);
  });

  it('drops the rules the config ignores', () => {
    expect(lint('FROM debian\n', { ignored: ['SL1001'] })).toEqual(['DL3006:1']);
  });

  it('reads the config file and refuses unknown keys by name', () => {
    expect(parseLintConfig('{"ignored":["DL3008"],"failureThreshold":"warning"}', 'c.json')).toEqual({ ignored: ['DL3008'], failureThreshold: 'warning' });
    expect(() => parseLintConfig('{"ignore":[]}', 'c.json')).toThrow(/unknown or malformed key "ignore"/);
  });

  it('fails only on findings at or above the threshold', () => {
    const findings = lintDockerfile('FROM alpine:3.19\nRUN apk add curl\n', { file: 'Dockerfile' });
    expect(findings.map((f) => f.severity)).toEqual(['info']);
    expect(failsThreshold(findings, 'info')).toHaveLength(1);
    expect(failsThreshold(findings, 'warning')).toHaveLength(0);
    expect(failsThreshold(findings, 'none')).toHaveLength(0);
  });
});

describe('output formats', () => {
  const findings = lintDockerfile('FROM alpine:3.19\nRUN apk add curl\n', { file: 'app/Dockerfile' });

  it('prints file, line, rule, severity, message and fix on a terminal', () => {
    expect(formatFindings(findings, 'tty')).toMatch(/^app\/Dockerfile:2 DL3019 info: .*\n {4}fix: use `apk add --no-cache`/);
  });

  it('writes SARIF 2.1.0 for code-scanning UIs', () => {
    const sarif = JSON.parse(formatFindings(findings, 'sarif'));
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0].results[0]).toMatchObject({
      ruleId: 'DL3019',
      level: 'note',
      locations: [{ physicalLocation: { artifactLocation: { uri: 'app/Dockerfile' }, region: { startLine: 2 } } }],
    });
    expect(sarif.runs[0].tool.driver.rules.map((r: { id: string }) => r.id)).toContain('SL1009');
  });

  it("writes JSON with hadolint's field names", () => {
    expect(JSON.parse(formatFindings(findings, 'json'))).toEqual([
      { file: 'app/Dockerfile', line: 2, code: 'DL3019', level: 'info', message: expect.any(String), fix: expect.any(String) },
    ]);
  });
});
