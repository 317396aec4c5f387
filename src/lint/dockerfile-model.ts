/**
 * A Dockerfile as the lint rules see it: stages with their base image (ARGs before FROM
 * resolved), instructions with 1-based lines, and the shell text of each RUN with line
 * continuations joined and comment lines dropped, as the builder does. Parsing is done by
 * dockerfile-ast (escape directive, continuations, heredocs).
 */
import { DockerfileParser, type Instruction } from 'dockerfile-ast';

export interface Flag {
  name: string;
  value: string | null;
}

export interface InstructionModel {
  keyword: string;
  /** 1-based line of the instruction keyword. */
  line: number;
  endLine: number;
  /** Arguments without flags, as written (continuations joined). */
  args: string[];
  flags: Flag[];
  /** RUN in shell form or heredoc: the script the shell gets. */
  shell?: string;
  /** RUN / CMD / ENTRYPOINT in exec (JSON) form. */
  exec?: string[];
  /** The index of the stage this instruction belongs to. */
  stage: number;
}

export interface StageModel {
  index: number;
  name?: string;
  /** The base image with build ARG defaults substituted ("ubuntu:22.04"). */
  image: string;
  /** Image name and tag split; tag undefined when none is written. */
  imageName: string;
  imageTag?: string;
  imageDigest?: string;
  /** FROM names an earlier stage, not an image. */
  fromStage: boolean;
  line: number;
  instructions: InstructionModel[];
}

export interface CommentModel {
  line: number;
  text: string;
}

export interface DockerfileModel {
  escape: string;
  stages: StageModel[];
  comments: CommentModel[];
  /** Every instruction, in order (ARGs before the first FROM included, with stage -1). */
  instructions: InstructionModel[];
}

function joinContinuations(raw: string, escape: string): string {
  const lines = raw.split(/\r?\n/);
  const out: string[] = [];
  let continued = false;
  for (const line of lines) {
    if (continued && /^\s*#/.test(line)) continue;
    if (continued && line.trim() === '') continue;
    const trimmed = line.replace(/\s+$/, '');
    if (trimmed.endsWith(escape)) {
      out.push(trimmed.slice(0, -escape.length));
      continued = true;
    } else {
      out.push(line);
      continued = false;
    }
  }
  return out.join(' ').replace(/\s+/g, ' ').trim();
}

function substitute(text: string, args: Map<string, string>): string {
  return text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}?/g, (match, name: string, fallback?: string) => args.get(name) ?? fallback ?? match);
}

function splitImage(image: string): { name: string; tag?: string; digest?: string } {
  const [withoutDigest, digest] = image.split('@', 2) as [string, string | undefined];
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  if (colon > slash) return { name: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1), digest };
  return { name: withoutDigest, digest };
}

function instructionModel(instruction: Instruction, escape: string, stage: number, lines: string[]): InstructionModel {
  const range = instruction.getRange();
  const keyword = instruction.getKeyword().toUpperCase();
  const flagged = instruction as Instruction & { getFlags?: () => Array<{ getName(): string; getValue(): string | null }> };
  const flags = flagged.getFlags?.().map((f) => ({ name: f.getName(), value: f.getValue() })) ?? [];
  const args = instruction.getArguments().map((a) => a.getValue());
  const model: InstructionModel = { keyword, line: range.start.line + 1, endLine: range.end.line + 1, args, flags, stage };
  if (keyword === 'RUN' || keyword === 'CMD' || keyword === 'ENTRYPOINT') {
    const json = (instruction as Instruction & { getJSONStrings?: () => Array<{ getJSONValue(): string }> }).getJSONStrings?.() ?? [];
    const heredocs = (instruction as Instruction & { getHeredocs?: () => Array<{ getContentRange(): { start: { line: number }; end: { line: number } } | null }> }).getHeredocs?.() ?? [];
    if (json.length) model.exec = json.map((j) => j.getJSONValue());
    else if (heredocs.length) {
      model.shell = heredocs
        .map((h) => h.getContentRange())
        .filter((r) => r !== null)
        .map((r) => lines.slice(r.start.line, r.end.line + 1).join('\n'))
        .join('\n');
    } else {
      const rawLines = lines.slice(range.start.line, range.end.line + 1);
      const raw = joinContinuations(rawLines.join('\n'), escape);
      // drop the keyword and the flags: the rest is the shell script
      let rest = raw.replace(/^\s*\S+\s*/, '');
      while (/^--\S+/.test(rest)) rest = rest.replace(/^--(?:"[^"]*"|'[^']*'|\S)+\s*/, '');
      model.shell = rest;
    }
  }
  return model;
}

export function parseDockerfile(text: string): DockerfileModel {
  const dockerfile = DockerfileParser.parse(text);
  const escape = dockerfile.getEscapeCharacter();
  const lines = text.split(/\r?\n/);
  const args = new Map<string, string>();
  for (const arg of dockerfile.getInitialARGs()) {
    for (const property of arg.getProperties()) {
      const value = property.getValue();
      if (value !== null) args.set(property.getName(), value);
    }
  }
  const stages: StageModel[] = [];
  const instructions: InstructionModel[] = [];
  let current: StageModel | undefined;
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword().toUpperCase();
    if (keyword === 'FROM') {
      const from = instruction as unknown as { getImage(): string | null; getBuildStage(): string | null };
      const image = substitute(from.getImage() ?? '', args);
      const { name, tag, digest } = splitImage(image);
      const fromStage = stages.some((s) => s.name !== undefined && s.name.toLowerCase() === image.toLowerCase());
      current = {
        index: stages.length,
        name: from.getBuildStage() ?? undefined,
        image,
        imageName: name,
        imageTag: tag,
        imageDigest: digest,
        fromStage,
        line: instruction.getRange().start.line + 1,
        instructions: [],
      };
      stages.push(current);
    }
    const model = instructionModel(instruction, escape, current?.index ?? -1, lines);
    instructions.push(model);
    current?.instructions.push(model);
  }
  const comments = dockerfile.getComments().map((c) => ({ line: c.getRange().start.line + 1, text: c.getContent() }));
  // leading comments that look like `# key=value` are parser directives to dockerfile-ast,
  // but `# hadolint global ignore=...` is a comment to us
  for (const directive of dockerfile.getDirectives()) {
    const line = directive.getRange().start.line;
    comments.push({ line: line + 1, text: (lines[line] ?? '').replace(/^\s*#\s*/, '') });
  }
  comments.sort((a, b) => a.line - b.line);
  return { escape, stages, comments, instructions };
}
