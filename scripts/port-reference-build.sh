#!/usr/bin/env bash
# Reference build of PHP 7.4 for wasm32-wasi, by hand, without wlmake.
#
#   scripts/port-reference-build.sh TARBALL OUTDIR
#
# TARBALL: php-7.4.x.tar.xz (php.net's file, or Debian's php7.4_7.4.x.orig.tar.xz).
# OUTDIR:  gets php.wasm, php-cgi.wasm, build-info.txt, build/ (sysroot view, compat
#          library, source tree, logs; wiped first) and check-app/ (the checks' scripts).
#
# Uses only this repository's patches/php/7.4/common and compat/wasi. Toolchain:
# Debian's clang-16 + lld-16 + wasi-libc + libclang-rt-16-dev-wasm32, or a wasi-sdk
# when WASI_SDK_PATH is set (that layout is untested on the reference machine).
#
# Environment: JOBS (default 2), VERIFY=0 to skip the Wasmtime checks at the end,
# CHECK_ONLY=1 to run only the checks on OUTDIR's existing binaries,
# WASMTIME (default: wasmtime on PATH).
# See docs/port-php-7.4.md for what every flag and patch is for.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 TARBALL OUTDIR" >&2
  exit 2
fi
REPO=$(cd "$(dirname "$0")/.." && pwd)
if [ "${CHECK_ONLY:-0}" = 1 ]; then
  TARBALL=$1
else
  TARBALL=$(realpath "$1")
fi
mkdir -p "$2"
OUT=$(cd "$2" && pwd)
JOBS=${JOBS:-2}
B=$OUT/build
PATCHES=$REPO/patches/php/7.4/common
COMPAT=$REPO/compat/wasi

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

if [ "${CHECK_ONLY:-0}" != 1 ]; then
# --- toolchain view -------------------------------------------------------------------
# A private sysroot holding only wasi-libc, so clang never falls back to the host's
# /usr/include; a private bin folder first on PATH with the compiler wrappers and a
# no-op wasm-opt (clang runs binaryen's wasm-opt on every optimised link when it finds
# one: about 6 s per PHP link, and binaryen 108 is older than this LLVM).
rm -rf "$B"
mkdir -p "$B/bin" "$B/sysroot/include" "$B/sysroot/lib" "$B/logs"
if [ -n "${WASI_SDK_PATH:-}" ]; then
  CLANG=$WASI_SDK_PATH/bin/clang
  AR=$WASI_SDK_PATH/bin/llvm-ar
  RANLIB=$WASI_SDK_PATH/bin/llvm-ranlib
  NM=$WASI_SDK_PATH/bin/llvm-nm
  SYSROOT=$WASI_SDK_PATH/share/wasi-sysroot
else
  # The real binary, not /usr/bin/clang-16: clang looks for wasm-opt in the folder it
  # was started from before PATH, and /usr/bin has binaryen's.
  CLANG=$(readlink -f "$(command -v clang-16)") || die "clang-16 not found (apt-get install clang-16)"
  AR=$(command -v llvm-ar-16) || die "llvm-ar-16 not found (apt-get install llvm-16)"
  RANLIB=$(command -v llvm-ranlib-16) || die "llvm-ranlib-16 not found"
  NM=$(command -v llvm-nm-16) || die "llvm-nm-16 not found"
  command -v wasm-ld-16 >/dev/null || die "wasm-ld-16 not found (apt-get install lld-16)"
  [ -f /usr/lib/wasm32-wasi/libc.a ] || die "wasi-libc not found (apt-get install wasi-libc)"
  ln -s /usr/include/wasm32-wasi "$B/sysroot/include/wasm32-wasi"
  ln -s /usr/lib/wasm32-wasi "$B/sysroot/lib/wasm32-wasi"
  SYSROOT=$B/sysroot
fi
"$CLANG" --target=wasm32-wasi -print-libgcc-file-name | xargs test -f \
  || die "compiler-rt builtins for wasm32 missing (apt-get install libclang-rt-16-dev-wasm32)"
cat > "$B/bin/wasm32-wasi-clang" <<EOF
#!/bin/sh
exec "$CLANG" --target=wasm32-wasi --sysroot="$SYSROOT" "\$@"
EOF
cat > "$B/bin/wasm-opt" <<'EOF'
#!/bin/sh
# No-op: keeps clang from running binaryen's wasm-opt on every link.
exit 0
EOF
chmod +x "$B/bin/wasm32-wasi-clang" "$B/bin/wasm-opt"
export PATH="$B/bin:$PATH"
CC=$B/bin/wasm32-wasi-clang
# Probe: an optimised link must use wasm-ld and this no-op wasm-opt, nothing else.
mkdir -p "$B/probe"
echo 'int main(void) { return 0; }' >"$B/probe/main.c"
"$CC" -O2 -v "$B/probe/main.c" -o "$B/probe/main.wasm" >"$B/logs/probe.log" 2>&1 \
  || { cat "$B/logs/probe.log"; die "the toolchain cannot link a wasm32-wasi program"; }
grep -q 'wasm-ld' "$B/logs/probe.log" || die "clang did not link with wasm-ld (see $B/logs/probe.log)"
if grep 'wasm-opt' "$B/logs/probe.log" | grep -vq "\"$B/bin/wasm-opt\""; then
  die "clang runs another wasm-opt than $B/bin/wasm-opt (see $B/logs/probe.log)"
fi

# --- compat library -------------------------------------------------------------------
log "compat library"
make -s -C "$COMPAT" CC="$CC" AR="$AR" CFLAGS="-O2" OUT="$B/compat" >"$B/logs/compat.log" 2>&1 \
  || { cat "$B/logs/compat.log"; die "compat library failed"; }
COMPAT_LIB=$B/compat/libwlmake-compat.a

# --- source ---------------------------------------------------------------------------
log "extract $TARBALL"
mkdir -p "$B/src"
tar -xJf "$TARBALL" -C "$B/src"
SRC=$(echo "$B"/src/php-7.4.*)
[ -d "$SRC" ] || die "the tarball holds no php-7.4.* folder"
# The build machine's triplet, guessed with the host compiler (not the wasm one).
BUILD_TRIPLET=$(env -u CC -u CFLAGS -u CPPFLAGS -u LDFLAGS -u LIBS sh "$SRC/build/config.guess")
for p in "$PATCHES"/[0-9][0-9][0-9][0-9]-*.patch; do
  # -F0: no fuzz; any offset or fuzz report also fails the build (the series must be exact).
  if ! out=$(cd "$SRC" && patch -p1 -F0 -N --no-backup-if-mismatch -i "$p" 2>&1) \
     || printf '%s' "$out" | grep -Eq 'offset|fuzz|FAILED'; then
    printf '%s\n' "$out" >&2
    die "patch $(basename "$p") does not apply exactly"
  fi
  log "applied $(basename "$p")"
done

# --- configure ------------------------------------------------------------------------
# Given to configure only (not exported): PHP's configure records CC, CFLAGS and CPPFLAGS
# in the Makefile and moves LIBS into EXTRA_LIBS, but drops LDFLAGS, so the link flags
# are given to make again below.
EMULATED="-lwasi-emulated-signal -lwasi-emulated-process-clocks -lwasi-emulated-getpid"
CFLAGS="-O2"
# The compat headers are visible to configure; the compat library is not (linked at
# make time only), so HAVE_<func> stays undefined for every function it stubs.
CPPFLAGS="-D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_GETPID \
-DCOOKIE_SEEKER_USES_OFF64_T -I$COMPAT/include -include wlmake-wasi-compat.h"
# 8 MiB shadow stack placed below the data (an overflow traps instead of overwriting
# static data; wasm-ld's default is 64 KiB above the data).
LDFLAGS="-Wl,-z,stack-size=8388608 -Wl,--stack-first"
LIBS="$EMULATED"
CONFIGURE_ENV=(CC="$CC" AR="$AR" RANLIB="$RANLIB" NM="$NM" CFLAGS="$CFLAGS" CPPFLAGS="$CPPFLAGS"
  LDFLAGS="$LDFLAGS" LIBS="$LIBS")
CONFIGURE_ARGS=(
  --host=wasm32-wasi
  --build="$BUILD_TRIPLET"
  --prefix=/usr/local
  --disable-all
  --enable-cli
  --enable-cgi
  --disable-phpdbg
  --disable-fpm
  --disable-opcache
  --disable-zend-signals
  --without-valgrind
  --without-pcre-jit
  --enable-ctype
  --enable-json
  --enable-tokenizer
  --enable-filter
  ac_cv_struct_flock=no
  ac_cv_func_getrusage=no
  ac_cv_func_realpath=yes
  ac_cv_write_stdout=yes
)
log "configure"
t0=$(now)
(cd "$SRC" && env "${CONFIGURE_ENV[@]}" ./configure "${CONFIGURE_ARGS[@]}") >"$B/logs/configure.log" 2>&1 \
  || { tail -30 "$B/logs/configure.log"; die "configure failed (log: $B/logs/configure.log)"; }
CONFIGURE_SECONDS=$(since "$t0")

# --- make -----------------------------------------------------------------------------
# None of these is set in the generated Makefile, so the command line adds to the link
# without replacing anything: LDFLAGS (dropped by configure), the compat library (after
# PHP's objects) and the exit-status clamp, a link-time wrap (compat/wasi/src/exit.c).
grep -Eq '^LDFLAGS *=' "$SRC/Makefile" && die "configure set LDFLAGS; the make command line would replace it"
for var in ZEND_EXTRA_LIBS EXTRA_LDFLAGS_PROGRAM; do
  grep -Eq "^$var = *\$" "$SRC/Makefile" || die "configure set $var; the make command line would replace it"
done
MAKE_VARS=(
  "LDFLAGS=$LDFLAGS"
  "ZEND_EXTRA_LIBS=$COMPAT_LIB"
  "EXTRA_LDFLAGS_PROGRAM=-Wl,--wrap=__wasi_proc_exit"
)
log "make -j$JOBS cli cgi"
t0=$(now)
(cd "$SRC" && env -u CFLAGS -u CPPFLAGS -u LDFLAGS -u LIBS make -j"$JOBS" "${MAKE_VARS[@]}" cli cgi) \
  >"$B/logs/make.log" 2>&1 \
  || { grep -E 'error|Error' "$B/logs/make.log" | head -30; die "make failed (log: $B/logs/make.log)"; }
MAKE_SECONDS=$(since "$t0")

cp "$SRC/sapi/cli/php" "$OUT/php.wasm"
cp "$SRC/sapi/cgi/php-cgi" "$OUT/php-cgi.wasm"
{
  echo "source: $(basename "$TARBALL") sha256 $(sha256sum "$TARBALL" | cut -d' ' -f1)"
  echo "patches: $(cd "$PATCHES" && ls [0-9][0-9][0-9][0-9]-*.patch | tr '\n' ' ')"
  echo "compiler: $("$CLANG" --version | head -1)"
  echo "configure environment: ${CONFIGURE_ENV[*]}"
  echo "configure ${CONFIGURE_ARGS[*]}"
  echo "make -j$JOBS ${MAKE_VARS[*]} cli cgi"
  echo "configure_seconds=$CONFIGURE_SECONDS"
  echo "make_seconds=$MAKE_SECONDS"
  echo "php.wasm_bytes=$(stat -c %s "$OUT/php.wasm")"
  echo "php-cgi.wasm_bytes=$(stat -c %s "$OUT/php-cgi.wasm")"
} >"$OUT/build-info.txt"
log "built: $OUT/php.wasm $OUT/php-cgi.wasm (configure ${CONFIGURE_SECONDS}s, make ${MAKE_SECONDS}s)"

fi # CHECK_ONLY

# --- verify on Wasmtime ---------------------------------------------------------------
[ "${VERIFY:-1}" = 0 ] && exit 0
WASMTIME=${WASMTIME:-$(command -v wasmtime || true)}
if [ -z "$WASMTIME" ]; then
  log "wasmtime not found: skipping the checks"
  exit 0
fi
log "checks with $("$WASMTIME" --version)"
APP=$OUT/check-app
rm -rf "$APP"
mkdir -p "$APP"
printf 'first line\nsecond line\n' >"$APP/data.txt"
cat >"$APP/test.php" <<'EOF'
<?php
$a = [5, 3, 9, 1];
sort($a);
echo implode(',', $a), "\n";
echo implode(',', array_map(function ($n) { return $n * 10; }, $a)), "\n";
$k = 3;
$add = fn($n) => $n + $k;
echo $add(4), "\n";
class Point {
    public $x, $y;
    function __construct($x, $y) { $this->x = $x; $this->y = $y; }
    function __toString() { return sprintf('(%d, %d)', $this->x, $this->y); }
}
echo new Point(2, 7), "\n";
echo strtoupper(str_replace('world', 'wasi', 'hello world')), "\n";
echo sprintf('%05.1f|%-4s|%x', 3.14159, 'ab', 255), "\n";
echo date('Y-m-d', 0), ' ', date_default_timezone_get(), "\n";
echo json_encode(['a' => 1, 'b' => [true, null, 1.5], 'c' => 'é']), "\n";
echo preg_match('/(\d+)-(\d+)/', 'from 12-34', $m), ' ', $m[1] + $m[2], "\n";
$r = random_int(1, 100);
echo ($r >= 1 && $r <= 100) ? 'random_int ok' : 'random_int bad', "\n";
echo strlen(random_bytes(16)), "\n";
$f = fopen('/app/data.txt', 'r');
echo get_resource_type($f), ': ', trim(fgets($f)), "\n";
fclose($f);
unset($f);
$g = fopen('/app/data.txt', 'r');
unset($g); // freed without fclose: the resource destructor runs through the table
touch('/app/touched');
clearstatcache();
echo abs(filemtime('/app/touched') - time()) < 60 ? 'touch ok' : 'touch bad', "\n";
unlink('/app/touched');
echo realpath('/app/./data.txt'), "\n";
echo 'PHP_INT_SIZE=', PHP_INT_SIZE, ' ', PHP_OS, "\n";
echo "done\n";
EOF
cat >"$APP/index.php" <<'EOF'
<?php
header('X-Port: wlmake');
echo "method=", $_SERVER['REQUEST_METHOD'], " a=", $_GET['a'] ?? '-', "\n";
EOF
cat >"$APP/redirect.php" <<'EOF'
<?php
header('Location: /next');
exit;
EOF
cat >"$APP/exit.php" <<'EOF'
<?php
register_shutdown_function(function () { echo "shutdown function\n"; });
class D { function __destruct() { echo "destructor\n"; } }
$d = new D;
ob_start();
echo "buffered\n";
exit(3);
EOF
expected_test="1,3,5,9
10,30,50,90
7
(2, 7)
HELLO WASI
003.1|ab  |ff
1970-01-01 UTC
{\"a\":1,\"b\":[true,null,1.5],\"c\":\"\\u00e9\"}
1 46
random_int ok
16
stream: first line
touch ok
/app/data.txt
PHP_INT_SIZE=4 WASI
done"
fail=0
check() { # name expected actual
  if [ "$2" = "$3" ]; then log "ok: $1"; else
    printf 'FAIL: %s\n--- expected\n%s\n--- got\n%s\n' "$1" "$2" "$3" >&2; fail=1; fi
}
W=("$WASMTIME" run)
got=$("${W[@]}" "$OUT/php.wasm" -v | head -1)
case "$got" in "PHP 7.4."*" (cli)"*) log "ok: -v: $got" ;; *) echo "FAIL: -v: $got" >&2; fail=1 ;; esac
check "-r" "2" "$("${W[@]}" "$OUT/php.wasm" -r 'echo 1+1;')"
check "test.php" "$expected_test" \
  "$("${W[@]}" --dir="$APP::/app" "$OUT/php.wasm" -d date.timezone=UTC /app/test.php 2>&1)"
cgi=$("${W[@]}" --dir="$APP::/app" --env GATEWAY_INTERFACE=CGI/1.1 --env REQUEST_METHOD=GET \
  --env SCRIPT_FILENAME=/app/index.php --env SCRIPT_NAME=/index.php \
  --env REQUEST_URI='/index.php?a=1' --env QUERY_STRING=a=1 --env SERVER_PROTOCOL=HTTP/1.1 \
  --env SERVER_NAME=localhost --env REDIRECT_STATUS=200 "$OUT/php-cgi.wasm" 2>&1)
if printf '%s' "$cgi" | grep -q '^X-Port: wlmake' && printf '%s' "$cgi" | grep -q '^Content-type: text/html' \
   && [ "$(printf '%s' "$cgi" | tail -1)" = "method=GET a=1" ]; then
  log "ok: cgi request"
else
  printf 'FAIL: cgi\n%s\n' "$cgi" >&2; fail=1
fi
CGI_ENV=(--env GATEWAY_INTERFACE=CGI/1.1 --env REQUEST_METHOD=GET --env SERVER_PROTOCOL=HTTP/1.1
  --env SERVER_NAME=localhost --env REDIRECT_STATUS=200)
redirect=$("${W[@]}" --dir="$APP::/app" "${CGI_ENV[@]}" --env SCRIPT_FILENAME=/app/redirect.php \
  --env SCRIPT_NAME=/redirect.php "$OUT/php-cgi.wasm" 2>&1)
if printf '%s' "$redirect" | grep -q '^Status: 302' && printf '%s' "$redirect" | grep -q '^Location: /next'; then
  log "ok: cgi header() then exit"
else
  printf 'FAIL: cgi header() then exit\n%s\n' "$redirect" >&2; fail=1
fi
set +e
got=$("${W[@]}" --dir="$APP::/app" "$OUT/php.wasm" /app/exit.php 2>&1); status=$?
set -e
check "exit() finishes the request" "buffered
shutdown function
destructor
status 3" "$got
status $status"
set +e
fatal=$("${W[@]}" "$OUT/php.wasm" -r 'undefined_fn();' 2>&1); status=$?
set -e
if [ "$status" = 125 ] && printf '%s' "$fatal" | grep -q 'Call to undefined function undefined_fn' \
   && ! printf '%s' "$fatal" | grep -qi 'backtrace\|wasm trap'; then
  log "ok: fatal error exits $status"
else
  printf 'FAIL: fatal error: status %s\n%s\n' "$status" "$fatal" >&2; fail=1
fi
[ "$fail" = 0 ] || die "checks failed"
log "all checks passed"
