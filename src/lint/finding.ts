/** What a lint rule reports, and the context rules read. */
import type { DockerfileModel, InstructionModel, StageModel } from './dockerfile-model.js';
import type { SimpleCommand } from './shell-commands.js';

export type Severity = 'error' | 'warning' | 'info' | 'style';

export const SEVERITY_ORDER: readonly Severity[] = ['style', 'info', 'warning', 'error'];

export interface Finding {
  rule: string;
  severity: Severity;
  file: string;
  line: number;
  message: string;
  fix: string;
}

export interface BuildContext {
  /** Content of .dockerignore next to the Dockerfile, undefined when there is none. */
  dockerignore?: string;
  /** Top-level names in the build context (to know whether .git or node_modules exist). */
  contextEntries?: string[];
}

export interface RuleContext {
  file: string;
  model: DockerfileModel;
  build: BuildContext;
  /** Parsed shell commands of a RUN instruction (cached). */
  commands(instruction: InstructionModel): SimpleCommand[];
  finalStage(): StageModel | undefined;
}

export interface Rule {
  id: string;
  severity: Severity;
  /** One line for SARIF and `--list-rules`. */
  title: string;
  check(context: RuleContext): Array<Omit<Finding, 'rule' | 'severity' | 'file'> & { severity?: Severity }>;
}

/** The output formats of `slimify lint` (here, not in format.ts, so the CLI can offer them without loading the rules). */
export type Format = 'tty' | 'json' | 'sarif';
export const FORMATS: readonly Format[] = ['tty', 'json', 'sarif'];
