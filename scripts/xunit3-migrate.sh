#!/usr/bin/env bash
# Converts test code written for xunit v2 (+ Xunit.SkippableFact) to xunit v3, in place. Idempotent: run it again
# after merging a branch whose new tests still use v2, then build. What it cannot do, it prints as "check by hand".
#
#   scripts/xunit3-migrate.sh            # tests/**/*.cs, tests/*/*.csproj, Directory.Packages.props
#   scripts/xunit3-migrate.sh FILE...    # only these .cs/.csproj files
#
# .cs files:
#   using Xunit.Abstractions;              removed (ITestOutputHelper is in namespace Xunit in v3)
#   Xunit.Abstractions.X                   Xunit.X
#   [SkippableFact] / [SkippableTheory]    [Fact] / [Theory] (v3 skips any test that calls Assert.Skip*)
#   Skip.If(c, m) / Skip.IfNot(c, m)       Assert.SkipWhen(c, m) / Assert.SkipUnless(c, m)
#   Skip.If(c) / Skip.IfNot(c)             the same, with the condition's text as the reason (v3 requires one)
#   Skip.If(true, m)                       Assert.Skip(m)
#   throw new SkipException(m);            Assert.Skip(m);
#   throw new SkipException(m) (in an expression)   throw Xunit.Sdk.SkipException.ForSkip(m)
#   IAsyncLifetime members                 Task InitializeAsync()/DisposeAsync() -> ValueTask (async ones, and
#                                          expression bodies: => Task.CompletedTask becomes ValueTask.CompletedTask,
#                                          => expr becomes => new ValueTask(expr)); explicit Task IAsyncLifetime.DisposeAsync()
#                                          becomes ValueTask IAsyncDisposable.DisposeAsync()
# .csproj files (test projects) and Directory.Packages.props:
#   PackageReference xunit -> xunit.v3.mtp-off; Xunit.SkippableFact and Xunit.Abstractions (package or global using)
#   removed; <OutputType>Exe</OutputType> added to a test project that lacks one; the v2 package versions removed from
#   Directory.Packages.props (and xunit.v3.mtp-off 4.0.3 / xunit.runner.visualstudio 4.0.1 put there if missing).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [ "$#" -gt 0 ]; then
    files=("$@")
else
    mapfile -t files < <(find tests -type f \( -name '*.cs' -o -name '*.csproj' \) -not -path '*/bin/*' -not -path '*/obj/*' | sort)
    files+=(Directory.Packages.props)
fi

python3 - "${files[@]}" <<'PY'
import re, sys

changed, todo = [], []


def matching_paren(text, start):
    """Index of the ')' that closes the '(' at start; skips strings, chars and comments roughly (C# literals)."""
    depth, i, n = 0, start, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            verbatim = i > 0 and text[i - 1] == '@'
            i += 1
            while i < n:
                if text[i] == '\\' and not verbatim:
                    i += 2
                    continue
                if text[i] == '"':
                    if verbatim and i + 1 < n and text[i + 1] == '"':
                        i += 2
                        continue
                    break
                i += 1
        elif c == "'":
            i += 1
            while i < n and text[i] != "'":
                i += 2 if text[i] == '\\' else 1
        elif text.startswith('//', i):
            i = text.find('\n', i)
            if i < 0:
                return -1
        elif c in '([{':
            depth += 1
        elif c in ')]}':
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def split_args(inner):
    """Top-level comma-separated arguments of a call's inner text."""
    args, depth, cur, i = [], 0, '', 0
    while i < len(inner):
        c = inner[i]
        if c == '"':
            j = matching_quote(inner, i)
            cur += inner[i:j + 1]
            i = j + 1
            continue
        if c in '([{':
            depth += 1
        elif c in ')]}':
            depth -= 1
        if c == ',' and depth == 0:
            args.append(cur)
            cur = ''
        else:
            cur += c
        i += 1
    args.append(cur)
    return args


def matching_quote(text, i):
    verbatim = i > 0 and text[i - 1] == '@'
    j = i + 1
    while j < len(text):
        if text[j] == '\\' and not verbatim:
            j += 2
            continue
        if text[j] == '"':
            return j
        j += 1
    return len(text) - 1


def convert_skip_calls(text, path):
    # Skip.IfNot before Skip.If; not preceded by an identifier or a dot (Assert.Skip... stays).
    for old, new in (('Skip.IfNot(', 'Assert.SkipUnless('), ('Skip.If(', 'Assert.SkipWhen(')):
        pattern = re.compile(r'(?<![\w.])' + re.escape(old))
        while (m := pattern.search(text)):
            open_at = m.end() - 1
            close_at = matching_paren(text, open_at)
            if close_at < 0:
                todo.append(f'{path}: could not parse {old}...)')
                break
            inner = text[open_at + 1:close_at]
            args = split_args(inner)
            if len(args) == 1:
                reason = ' '.join(inner.split()).replace('\\', '\\\\').replace('"', '\\"')
                inner = f'{inner}, "{"Skipped: " if old == "Skip.If(" else "Skipped unless: "}{reason}"'
            if old == 'Skip.If(' and len(args) == 2 and args[0].strip() == 'true':
                text = text[:m.start()] + 'Assert.Skip(' + args[1].strip() + text[close_at:]
                continue
            text = text[:m.start()] + new + inner + text[close_at:]
    return text


def convert_skip_exceptions(text, path):
    pattern = re.compile(r'throw\s+new\s+(?:Xunit\.)?SkipException\(')
    while (m := pattern.search(text)):
        open_at = m.end() - 1
        close_at = matching_paren(text, open_at)
        if close_at < 0:
            todo.append(f'{path}: could not parse throw new SkipException(...)')
            break
        inner = text[open_at + 1:close_at]
        # A statement (after '{', '}', ';', 'if (...)' or 'else', ending with ';') becomes Assert.Skip; an expression
        # (after '??', '=>', '?', ':') keeps the throw.
        before = text[:m.start()].rstrip()
        statement = (before == '' or before[-1] in '{};)' or before.endswith('else')) and text[close_at + 1:].lstrip().startswith(';')
        if statement:
            text = text[:m.start()] + f'Assert.Skip({inner})' + text[close_at + 1:]
        else:
            text = text[:m.start()] + f'throw Xunit.Sdk.SkipException.ForSkip({inner})' + text[close_at + 1:]
    return text


def convert_lifetime(text, path):
    if 'IAsyncLifetime' not in text:
        return text
    sig = re.compile(r'(?P<mods>(?:(?:public|private|protected|internal|virtual|override|sealed|new)\s+)*)(?P<async>async\s+)?(?<![\w.])Task(?P<ws>\s+)(?P<name>(?:IAsyncLifetime\.|IAsyncDisposable\.)?(?:InitializeAsync|DisposeAsync))\(\)')
    out, pos = [], 0
    for m in sig.finditer(text):
        out.append(text[pos:m.start()])
        # v3: IAsyncLifetime : IAsyncDisposable, whose DisposeAsync() it no longer declares itself.
        name = 'IAsyncDisposable.DisposeAsync' if m['name'] == 'IAsyncLifetime.DisposeAsync' else m['name']
        head = f"{m['mods']}{m['async'] or ''}ValueTask{m['ws']}{name}()"
        pos = m.end()
        if not m['async']:
            rest = text[pos:]
            body = re.match(r'\s*=>\s*', rest)
            if body:
                end = rest.find(';', body.end())
                expr = rest[body.end():end].strip()
                if expr == 'Task.CompletedTask':
                    expr = 'ValueTask.CompletedTask'
                elif not expr.startswith(('ValueTask.', 'new ValueTask', 'default')):
                    expr = f'new ValueTask({expr})'
                head += body.group(0) + expr + ';'
                pos += end + 1
            elif not rest.lstrip().startswith(';'):
                line = text.count('\n', 0, m.start()) + 1
                todo.append(f'{path}:{line}: {m["name"]}() is not async and has a block body: return ValueTask (ValueTask.CompletedTask, new ValueTask(task)) by hand')
        out.append(head)
    out.append(text[pos:])
    return ''.join(out)


def convert_cs(path, text):
    text = re.sub(r'^[ \t]*using\s+Xunit\.Abstractions;[ \t]*\r?\n', '', text, flags=re.M)
    text = re.sub(r'\bXunit\.Abstractions\.', 'Xunit.', text)
    text = re.sub(r'\bSkippableFact\b', 'Fact', text)
    text = re.sub(r'\bSkippableTheory\b', 'Theory', text)
    text = convert_skip_calls(text, path)
    text = convert_skip_exceptions(text, path)
    text = convert_lifetime(text, path)
    for pattern, why in (
        (r'\bIMessageSink\b|\bITestCaseOrderer\b|\bITestCollectionOrderer\b|\bIXunitSerializable\b|\bDataAttribute\b|\bFactDiscoverer\b|\bXunitTestCase\b',
         'xunit v2 extensibility type: its v3 counterpart differs (see xunit.net/docs/getting-started/v3/migration)'),
        (r'\basync\s+void\s+\w+\s*\(', 'async void test method: v3 refuses them; return Task'),
        (r'(?<![\w.])Skip\.\w+\(', 'a Skip.* call left over'),
    ):
        for m in re.finditer(pattern, text):
            line = text.count('\n', 0, m.start()) + 1
            todo.append(f'{path}:{line}: {why}: {m.group(0).strip()}')
    return text


def convert_csproj(path, text):
    if not re.search(r'<IsTestProject>\s*true\s*</IsTestProject>', text) and 'Include="xunit' not in text:
        return text
    text = re.sub(r'^[ \t]*<PackageReference Include="(?:Xunit\.SkippableFact|xunit\.abstractions)"\s*/>[ \t]*\r?\n', '', text, flags=re.M | re.I)
    text = re.sub(r'^[ \t]*<Using Include="Xunit\.Abstractions"\s*/>[ \t]*\r?\n', '', text, flags=re.M)
    text = re.sub(r'<PackageReference Include="xunit"(\s*/>)', r'<PackageReference Include="xunit.v3.mtp-off"\1', text)
    if '<OutputType>' not in text:
        text = re.sub(r'(<IsTestProject>\s*true\s*</IsTestProject>)',
                      r'\1\n    <!-- xunit v3: a test project is an executable (VSTest runs it through xunit.runner.visualstudio). -->\n    <OutputType>Exe</OutputType>',
                      text, count=1)
    return text


def convert_props(path, text):
    text = re.sub(r'^[ \t]*<PackageVersion Include="(?:xunit|Xunit\.SkippableFact|xunit\.abstractions)" Version="[^"]*"\s*/>[ \t]*\r?\n', '', text, flags=re.M | re.I)
    text = re.sub(r'(<PackageVersion Include="xunit\.runner\.visualstudio" Version=")[0-3]\.[^"]*(")', r'\g<1>4.0.1\2', text)
    if 'Include="xunit.v3.mtp-off"' not in text:
        anchor = re.search(r'^([ \t]*)<PackageVersion Include="xunit\.runner\.visualstudio"', text, flags=re.M)
        if anchor:
            text = text[:anchor.start()] + f'{anchor.group(1)}<PackageVersion Include="xunit.v3.mtp-off" Version="4.0.3" />\n' + text[anchor.start():]
        else:
            todo.append(f'{path}: add <PackageVersion Include="xunit.v3.mtp-off" Version="4.0.3" /> by hand')
    return text


for path in sys.argv[1:]:
    with open(path, encoding='utf-8-sig', newline='') as f:
        original = f.read()
    if path.endswith('.cs'):
        text = convert_cs(path, original)
    elif path.endswith('.csproj'):
        text = convert_csproj(path, original)
    elif path.endswith('Directory.Packages.props'):
        text = convert_props(path, original)
    else:
        continue
    if text != original:
        with open(path, 'rb') as f:
            bom = f.read(3) == b'\xef\xbb\xbf'
        with open(path, 'w', encoding='utf-8-sig' if bom else 'utf-8', newline='') as f:
            f.write(text)
        changed.append(path)

for path in changed:
    print(f'converted: {path}')
for line in todo:
    print(f'check by hand: {line}')
if not changed and not todo:
    print('nothing to convert')
PY
