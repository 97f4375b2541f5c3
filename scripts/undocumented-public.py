#!/usr/bin/env python3
"""Lists public and open declarations in Sources/ and Lint/Sources/ that have no doc comment
(`///`); overrides inherit theirs.

Usage: scripts/undocumented-public.py [TARGET ...]   (default: every target)
Exit status 1 when any is found, so CI can check it.
"""
import pathlib, re, sys

DECL = re.compile(r'^\s*(?:@[\w().:, ]+\s+)*(?:(?:public|open)\s+)(?:(?:final|static|class|override|mutating|nonmutating|convenience|required|indirect|nonisolated|private\(set\)|internal\(set\)|package\(set\)|fileprivate\(set\))\s+)*'
                  r'(func|var|let|init|class|struct|enum|protocol|typealias|subscript|case|actor|extension)\b')
repo = pathlib.Path(__file__).resolve().parent.parent
folders = sorted(p for sources in (repo / 'Sources', repo / 'Lint' / 'Sources') for p in sources.iterdir() if p.is_dir())
folders = [p for p in folders if not sys.argv[1:] or p.name in sys.argv[1:]]
missing = []
for folder in folders:
    for path in sorted(folder.rglob('*.swift')):
        lines = path.read_text().split('\n')
        for i, line in enumerate(lines):
            m = DECL.match(line)
            # Overrides inherit the overridden declaration's documentation.
            if not m or m.group(1) == 'extension' or re.search(r'\boverride\b', line.split('{')[0]):
                continue
            j = i - 1
            while j >= 0 and (lines[j].strip().startswith('@') or lines[j].strip().startswith('#if') or lines[j].strip() == ''):
                if lines[j].strip() == '':
                    j = -1
                    break
                j -= 1
            if j < 0 or not (lines[j].strip().startswith('///') or lines[j].strip().endswith('*/')):
                missing.append(f'{path.relative_to(repo)}:{i + 1}: {line.strip()}')
print('\n'.join(missing))
print(f'{len(missing)} public declarations without a doc comment', file=sys.stderr)
sys.exit(1 if missing else 0)
