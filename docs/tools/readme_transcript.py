#!/usr/bin/env python3
"""Re-runs README's worked example and worked requests as pasted and rewrites their transcripts.

README shows each shell command (`$ ...`) with the answer a real server gave. This script runs the
commands of the section from "## A worked example" to "## Configuration" in order, in a copy of the
checkout, against the server the section starts on 127.0.0.1:8080. The ids a fresh install prints differ
from README's, so it learns them from each answer (README's old answer against this run's) and uses them
in later commands. It writes README.md.new: the commands as run and the answers as printed.

Run it in a private network namespace, so port 8080 is free and nothing else is reached:

    rm -rf /tmp/readme-run && mkdir /tmp/readme-run && git archive HEAD | tar -x -C /tmp/readme-run
    unshare -n sh -c 'ip link set lo up && python3 docs/tools/readme_transcript.py README.md /tmp/readme-run'
    diff README.md README.md.new

then look at every changed answer before copying README.md.new over README.md.
"""
import re, subprocess, sys, time, difflib, os
readme_path, workdir = sys.argv[1], sys.argv[2]
text = open(readme_path).read()
start = text.index('## A worked example')
end = text.index('## Configuration')
lines = text[start:end].split('\n')

mapping = {}  # README literal -> this run's literal
prelude = []
def tokens(s):
    return re.findall(r'[A-Za-z0-9+/=_.~\-]+', s)
def apply(s):
    for old in sorted(mapping, key=len, reverse=True):
        s = s.replace(old, mapping[old])
    return s
def learn(old_out, new_out):
    a, b = tokens(old_out), tokens(new_out)
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == 'replace' and i2 - i1 == j2 - j1:
            for x, y in zip(a[i1:i2], b[j1:j2]):
                if len(x) >= 4 and x != y and not re.match(r'^\d{4}-\d\d-\d\dT', x):
                    mapping.setdefault(x, y)

out_lines = []
i = 0
in_sh = False
server = None
failures = 0
while i < len(lines):
    line = lines[i]
    if line.strip() == '```sh':
        in_sh = True; out_lines.append(line); i += 1; continue
    if in_sh and line.strip() == '```':
        in_sh = False; out_lines.append(line); i += 1; continue
    if not (in_sh and line.startswith('$ ')):
        out_lines.append(line); i += 1; continue
    cmd_lines = [line]
    while cmd_lines[-1].endswith('\\'):
        i += 1; cmd_lines.append(lines[i])
    i += 1
    expected = []
    while i < len(lines) and not lines[i].startswith('$ ') and lines[i].strip() != '```':
        expected.append(lines[i]); i += 1
    cmd = '\n'.join(cmd_lines)[2:]
    run = apply(cmd)
    if run.endswith('&'):
        server = subprocess.Popen(['bash', '-c', run[:-1] + ' >serve.log 2>&1'], cwd=workdir)
        for _ in range(100):
            if subprocess.run(['curl', '-sf', 'http://127.0.0.1:8080/healthz'], capture_output=True).returncode == 0:
                break
            time.sleep(0.2)
        got = ''
    else:
        script = '\n'.join(prelude + [run])
        r = subprocess.run(['bash', '-c', script], cwd=workdir, capture_output=True, text=True)
        got = (r.stdout + r.stderr).rstrip('\n')
        if re.match(r'^(export |[A-Z_]+=)', run):
            prelude.append(run)
    learn('\n'.join(expected), got)
    print('$ ' + run); print(got)
    # README becomes this run's transcript: the commands as run, the outputs as printed.
    out_lines.extend(('$ ' + run).split('\n'))
    if got:
        out_lines.extend(l.rstrip() for l in got.split('\n'))
if server:
    server.terminate()
# Prose and other blocks (not the Go program, which must stay the file) take this run's ids too.
final, in_go = [], False
for l in out_lines:
    if l.strip() == '```go': in_go = True
    elif in_go and l.strip() == '```': in_go = False
    elif not in_go and not l.startswith('$ ') and not l.startswith('    '):
        l = apply(l)
    final.append(l)
out_lines = final
open(readme_path + '.new', 'w').write(text[:start] + '\n'.join(out_lines) + text[end:])
print('MAPPING', mapping, file=sys.stderr)
