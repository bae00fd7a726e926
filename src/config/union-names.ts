// The names overlay= takes, in the order users see them. The union table
// (union/index.ts) has one row for each, and the compiler holds it to that;
// config only needs the names, so validating a config loads no union code.

export const UNION_NAMES = ['unionfs', 'dm', 'overlayfs', 'none'] as const;

export type UnionName = (typeof UNION_NAMES)[number];
