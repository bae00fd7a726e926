// The man pages by file name, as man/ holds them and install puts them.

import { COMMANDS } from '../commands';
import { commandPage, configPage, parametersPage } from './man-pages';

export const MAN_PAGES: Readonly<Record<string, string>> = {
  'cowboot.8': commandPage(COMMANDS),
  'cowboot.7': parametersPage(),
  'cowboot.json.5': configPage(),
};
