#!/usr/bin/env python3
"""Turns a file into a C source defining `const char NAME[]` and its length,
so static assets (the explorer page) ship inside the mdbee binary."""
import sys

src, out, name = sys.argv[1:4]
data = open(src, 'rb').read()
with open(out, 'w') as f:
    f.write('#include <stddef.h>\n')
    f.write(f'const char {name}[] = {{\n')
    for i in range(0, len(data), 16):
        f.write('  ' + ', '.join(str(b) for b in data[i:i + 16]) + ',\n')
    f.write('  0};\n')
    f.write(f'const size_t {name}_len = {len(data)};\n')
