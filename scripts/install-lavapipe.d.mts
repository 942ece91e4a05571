// Types for install-lavapipe.mjs, which stays plain JS so it runs with `node` and no build step.

export type OsRelease = Record<string, string>;

export interface SystemFacts {
  osRelease: OsRelease;
  isRoot: boolean;
  hasAptGet: boolean;
  /** Text of /etc/apt/sources.list.d/debian.sources, or null when the file does not exist. */
  debianSources: string | null;
}

export type InstallPlan =
  | {
      install: true;
      summary: string;
      sourcesFile: { path: string; contents: string } | null;
      commands: string[][];
      manual: string;
    }
  | { install: false; reason: string; manual: string };

export const DEBIAN_SOURCES_PATH: string;
export const BACKPORTS_SOURCES_PATH: string;
export const BACKPORTS_LIST_PATH: string;

export function parseOsRelease(text: string): OsRelease;
export function isDebianLike(osRelease: OsRelease): boolean;
export function isDebianBookworm(osRelease: OsRelease): boolean;
export function backportsStanzaFromDeb822(sourcesText: string, codename?: string): string | null;
export function classicBackportsList(codename?: string): string;
export function planLavapipeInstall(facts: SystemFacts): InstallPlan;
export function readSystemFacts(): SystemFacts;
export function onPath(command: string): boolean;
export function runInstallPlan(plan: Extract<InstallPlan, { install: true }>, options?: { toStderr?: boolean }): void;
export function installLavapipe(): Extract<InstallPlan, { install: true }>;
