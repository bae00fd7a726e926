// The man pages by file name, as man/ holds them and install puts them.
// cowboot(8) is written from the command's rows, which are given: they
// include install, which puts these pages.

import type { Command } from '../command';
import { commandPage, configPage, parametersPage } from './man-pages';

export const MAN_PAGE_FILES = ['cowboot.8', 'cowboot.7', 'cowboot.json.5'] as const;

export type ManPages = Readonly<Record<(typeof MAN_PAGE_FILES)[number], string>>;

export function manPages(commands: Readonly<Record<string, Command>>): ManPages {
  return { 'cowboot.8': commandPage(commands), 'cowboot.7': parametersPage(), 'cowboot.json.5': configPage() };
}
