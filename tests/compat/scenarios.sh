#!/usr/bin/env bash
# scenarios.sh: the version-compatibility scenarios of DESIGN.md §6 (issue 4), end to end with
# the CLI on the host target. Builds three more versions of the same source (next minor, next
# major, the major after that) next to the current build, then checks what each version does with
# the others' plans.
#
# usage: tests/compat/scenarios.sh SOURCE_DIR BUILD_DIR WORK_DIR
#   SOURCE_DIR  the source tree (models/tiny_cnn.onnx is the model used)
#   BUILD_DIR   the current build (onnx2plan, libo2p_lean.so); only read, never written
#   WORK_DIR    everything this script makes goes here: the extra builds (kept, so that the next
#               run only rebuilds what changed) and a scratch directory (removed at the end)
# environment:
#   O2P_COMPAT_JOBS=N  parallel jobs of the extra builds (default 2)
#   O2P_COMPAT_KEEP=1  keep the scratch directory (plans, outputs, every command's stdout/stderr)
#
# Prints "PASS name" or "FAIL name: reason" per scenario and a summary; exits 1 if any fails.
set -euo pipefail

usage() {
    echo "usage: $0 SOURCE_DIR BUILD_DIR WORK_DIR" >&2
    exit 2
}
[[ $# -eq 3 ]] || usage
source_dir=$(cd "$1" && pwd -P)
build_dir=$(cd "$2" && pwd -P)
mkdir -p "$3"
work_dir=$(cd "$3" && pwd -P)
jobs=${O2P_COMPAT_JOBS:-2}
case $build_dir/ in
    "$work_dir"/*) echo "$0: WORK_DIR must not contain BUILD_DIR" >&2; exit 2 ;;
esac

model=$source_dir/models/tiny_cnn.onnx
shapes=input:2x3x32x32
seed=7
cur_cli=$build_dir/onnx2plan
cur_lean=$build_dir/libo2p_lean.so

passed=()
failed=()
started=$SECONDS

# ---------------------------------------------------------------------------------------------
# Running commands and checking what they did. A check that fails sets `reason` (one line, for
# the FAIL line) and `details` (the command and the end of its output) and returns 1; scenarios
# chain checks with `|| return 1`.

scratch=$work_dir/scratch
ncmd=0
last_cmd=
last_rc=0
last_out=/dev/null
last_err=/dev/null
reason=
details=

# run_cmd CMD...: runs CMD in the scratch directory, keeping its exit status and output.
run_cmd() {
    ncmd=$((ncmd + 1))
    last_cmd=$*
    last_out=$scratch/cmd$ncmd.out
    last_err=$scratch/cmd$ncmd.err
    printf '%s\n' "$last_cmd" >"$scratch/cmd$ncmd.cmd"
    if (cd "$scratch" && "$@") >"$last_out" 2>"$last_err"; then
        last_rc=0
    else
        last_rc=$?
    fi
}

# fail REASON: records why the current scenario failed, with the last command for context.
fail() {
    reason=$1
    details="\$ $last_cmd (exit $last_rc)"
    if [[ -s $last_err ]]; then
        details+=$'\n'"stderr: $(tail -n 6 "$last_err")"
    fi
    if [[ -s $last_out ]]; then
        details+=$'\n'"stdout: $(tail -n 6 "$last_out")"
    fi
    return 1
}

first_line() { # FILE: its first non-empty line, or "(empty)"
    local line
    line=$(grep -m1 -v '^[[:space:]]*$' "$1" || true)
    printf '%s' "${line:-(empty)}"
}

short_cmd() { # the last command with the paths of this run shortened, for reasons
    local c=$last_cmd
    c=${c//"$work_dir"/WORK}
    c=${c//"$build_dir"/BUILD}
    printf '%s' "$c"
}

# expect_ok: the last command succeeded.
expect_ok() {
    [[ $last_rc -eq 0 ]] && return 0
    fail "'$(short_cmd)' exited $last_rc, expected 0: $(first_line "$last_err")"
}

# expect_refused WORD...: the last command exited 1 with "onnx2plan: error:" on stderr, and
# stderr mentions every WORD (case-insensitive).
expect_refused() {
    if [[ $last_rc -ne 1 ]]; then
        fail "'$(short_cmd)' exited $last_rc, expected 1 (refused): $(first_line "$last_err")"
        return 1
    fi
    if ! grep -qF 'onnx2plan: error:' "$last_err"; then
        fail "'$(short_cmd)' exited 1 without 'onnx2plan: error:' on stderr"
        return 1
    fi
    local word missing=()
    for word in "$@"; do
        grep -qiF -- "$word" "$last_err" || missing+=("'$word'")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
        fail "'$(short_cmd)': the error does not mention ${missing[*]}: $(grep -m1 -F 'onnx2plan: error:' "$last_err")"
        return 1
    fi
}

# expect_lean_runtime WORD...: the last command (run with -v) printed a line starting with
# "lean runtime:" that mentions every WORD (case-insensitive).
expect_lean_runtime() {
    local line word missing=()
    line=$(grep -h -m1 -i '^[[:space:]]*lean runtime:' "$last_out" "$last_err" | head -n 1 || true)
    if [[ -z $line ]]; then
        fail "'$(short_cmd)' printed no 'lean runtime:' line"
        return 1
    fi
    for word in "$@"; do
        grep -qiF -- "$word" <<<"$line" || missing+=("'$word'")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
        fail "'$(short_cmd)': expected ${missing[*]} in '${line#"${line%%[![:space:]]*}"}'"
        return 1
    fi
}

# expect_same_outputs A.npz B.npz: byte for byte (the npz writer is deterministic).
expect_same_outputs() {
    if [[ ! -s $1 ]]; then
        fail "'$(short_cmd)' wrote no $(basename "$1")"
        return 1
    fi
    if ! cmp -s "$1" "$2"; then
        fail "$(basename "$1") differs from $(basename "$2") (the reference run)"
        return 1
    fi
}

# expect_empty_dir DIR: DIR exists and holds nothing.
expect_empty_dir() {
    if [[ ! -d $1 ]]; then
        fail "$1 is gone"
        return 1
    fi
    local left
    left=$(find "$1" -mindepth 1 | head -n 5)
    if [[ -n $left ]]; then
        fail "${1#"$work_dir"/} is not empty afterwards: $(tr '\n' ' ' <<<"$left")"
        return 1
    fi
}

# verdict NAME [failed]: prints the verdict of one scenario (with `reason` and `details` when it
# failed) and clears them for the next one.
verdict() {
    if [[ $# -eq 1 ]]; then
        echo "PASS $1"
        passed+=("$1")
    else
        echo "FAIL $1: ${reason:-no reason given}"
        [[ -z $details ]] || printf '    %s\n' "${details//$'\n'/$'\n'    }"
        failed+=("$1")
    fi
    reason=
    details=
}

summary_and_exit() {
    local total=$((${#passed[@]} + ${#failed[@]}))
    echo "compat scenarios: ${#passed[@]} of $total passed in $((SECONDS - started)) s"
    if [[ ${O2P_COMPAT_KEEP:-0} == 1 ]]; then
        echo "kept $scratch (plans, outputs, each command's cmdN.cmd/.out/.err)"
    fi
    if [[ ${#failed[@]} -gt 0 ]]; then
        echo "failed: ${failed[*]}"
        exit 1
    fi
    exit 0
}


# ---------------------------------------------------------------------------------------------
# Setup: the current version, the three extra builds, the plans and the reference outputs.
# A failure here fails "setup" and stops: no scenario could say anything useful.

setup_failed() {
    echo "FAIL setup: $1"
    [[ $# -eq 1 ]] || printf '    %s\n' "${2//$'\n'/$'\n'    }"
    failed+=(setup)
    summary_and_exit
}

rm -rf "$scratch"
mkdir -p "$scratch/tmp"
trap '[[ ${O2P_COMPAT_KEEP:-0} == 1 ]] || rm -rf "$scratch"' EXIT
# Anything the runtimes put in the temporary directory by default lands here, and is checked.
export TMPDIR=$scratch/tmp

[[ -f $model ]] || setup_failed "no model $model"
[[ -x $cur_cli ]] || setup_failed "no $cur_cli (build the current version first)"
[[ -f $cur_lean ]] || setup_failed "no $cur_lean (build the o2p_lean target)"

version_of() { # CLI: prints its M.m.p.b
    local line
    line=$("$1" --version 2>&1) || return 1
    [[ $line =~ ^onnx2plan\ ([0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)$ ]] || return 1
    printf '%s' "${BASH_REMATCH[1]}"
}

cache_value() { # CACHE_FILE NAME: the cached value, or nothing
    sed -n "s/^$2:[A-Z]*=//p" "$1" 2>/dev/null | head -n 1
}

cur_ver=$(version_of "$cur_cli") || setup_failed "'$cur_cli --version' does not print 'onnx2plan M.m.p.b'"
IFS=. read -r cur_major cur_minor _ _ <<<"$cur_ver"
[[ $cur_minor -lt 99 ]] || setup_failed "the current minor version $cur_minor leaves no next minor"
minor_ver=$cur_major.$((cur_minor + 1)).0.0   # same major, newer
major1_ver=$((cur_major + 1)).0.0.0           # the next major
major2_ver=$((cur_major + 2)).0.0.0           # two majors on
minor_dir=$work_dir/v$cur_major.$((cur_minor + 1))
major1_dir=$work_dir/v$((cur_major + 1)).0
major2_dir=$work_dir/v$((cur_major + 2)).0

# The extra builds mirror the current one where it matters for loading each other's lean
# libraries: an ASan-instrumented library cannot be dlopen'ed by an uninstrumented program.
cur_cache=$build_dir/CMakeCache.txt
sanitize=$(cache_value "$cur_cache" O2P_SANITIZE)
base_bump=$(cache_value "$cur_cache" O2P_ENGINE_FORMAT_BUMP)
[[ $base_bump =~ ^[0-9]+$ ]] || base_bump=0
c_compiler=$(cache_value "$cur_cache" CMAKE_C_COMPILER)
if command -v ninja >/dev/null 2>&1; then
    generator=Ninja
else
    generator="Unix Makefiles"
fi

# build_version DIR VERSION BUMP: configures (when needed) and builds onnx2plan and o2p_lean.
build_version() {
    local dir=$1 ver=$2 bump=$3 log=$1.log got
    local args=(-DO2P_VERSION_OVERRIDE="$ver" -DO2P_ENGINE_FORMAT_BUMP="$bump"
        -DO2P_BUILD_TESTS=OFF -DO2P_SANITIZE="${sanitize:-OFF}")
    [[ -n $c_compiler ]] && args+=(-DCMAKE_C_COMPILER="$c_compiler")
    # A build directory made from another source tree or with another generator cannot be
    # reconfigured: start it again.
    if [[ -f $dir/CMakeCache.txt ]] &&
        { [[ $(cache_value "$dir/CMakeCache.txt" CMAKE_HOME_DIRECTORY) != "$source_dir" ]] ||
            [[ $(cache_value "$dir/CMakeCache.txt" CMAKE_GENERATOR) != "$generator" ]]; }; then
        rm -rf "$dir"
    fi
    : >"$log"
    if [[ ! -f $dir/CMakeCache.txt ]] ||
        [[ $(cache_value "$dir/CMakeCache.txt" O2P_VERSION_OVERRIDE) != "$ver" ]] ||
        [[ $(cache_value "$dir/CMakeCache.txt" O2P_ENGINE_FORMAT_BUMP) != "$bump" ]] ||
        [[ $(cache_value "$dir/CMakeCache.txt" O2P_SANITIZE) != "${sanitize:-OFF}" ]]; then
        if ! cmake -S "$source_dir" -B "$dir" -G "$generator" "${args[@]}" >>"$log" 2>&1; then
            setup_failed "configuring $ver in ${dir#"$work_dir"/} failed (log: $log)" "$(tail -n 15 "$log")"
        fi
    fi
    if ! cmake --build "$dir" -j "$jobs" --target onnx2plan o2p_lean >>"$log" 2>&1; then
        setup_failed "building $ver in ${dir#"$work_dir"/} failed (log: $log)" "$(grep -m 10 -E 'error|FAILED' "$log")"
    fi
    got=$(version_of "$dir/onnx2plan") || setup_failed "'$dir/onnx2plan --version' does not print 'onnx2plan M.m.p.b'"
    [[ $got == "$ver" ]] || setup_failed "$dir/onnx2plan says it is $got, expected $ver"
    [[ -f $dir/libo2p_lean.so ]] || setup_failed "no $dir/libo2p_lean.so"
    echo "built $ver in ${dir#"$work_dir"/} ($((SECONDS - started)) s so far)"
}

echo "current version $cur_ver ($build_dir); extra builds $minor_ver, $major1_ver, $major2_ver in $work_dir"
build_version "$minor_dir" "$minor_ver" $((base_bump + 1))
build_version "$major1_dir" "$major1_ver" $((base_bump + 2))
build_version "$major2_dir" "$major2_ver" $((base_bump + 3))

cur=$cur_cli
minor=$minor_dir/onnx2plan
major1=$major1_dir/onnx2plan
major2=$major2_dir/onnx2plan
run_flags=(--seed "$seed" --iterations 1 --warmup 0)

# build_plan CLI PLAN [FLAG...]: builds the model into scratch/PLAN, or fails setup.
build_plan() {
    local cli=$1 plan=$2
    shift 2
    run_cmd "$cli" "$model" -o "$scratch/$plan" --target host --shapes "$shapes" "$@"
    if [[ $last_rc -ne 0 || ! -s $scratch/$plan ]]; then
        setup_failed "'$(short_cmd)' exited $last_rc: $(first_line "$last_err")"
    fi
}

build_plan "$cur" std.plan
build_plan "$cur" vc.plan --version-compatible
build_plan "$cur" vc-nolean.plan --version-compatible --exclude-lean-runtime
build_plan "$minor" std-minor.plan
build_plan "$minor" vc-minor.plan --version-compatible
build_plan "$major1" vc-major1.plan --version-compatible

# The reference: the current version running its own version-compatible plan with the seeded
# random inputs. Every other run of this model with the same seed must write the same bytes.
ref=$scratch/ref.npz
run_cmd "$cur" run "$scratch/vc.plan" "${run_flags[@]}" --save-outputs "$ref" -v
if [[ $last_rc -ne 0 || ! -s $ref ]]; then
    setup_failed "the reference run '$(short_cmd)' exited $last_rc: $(first_line "$last_err")"
fi
run_cmd "$cur" run "$scratch/vc.plan" "${run_flags[@]}" --save-outputs "$scratch/ref-again.npz"
if ! cmp -s "$ref" "$scratch/ref-again.npz"; then
    setup_failed "two runs of the same plan with --seed $seed wrote different outputs: byte-for-byte comparison cannot work"
fi

# ---------------------------------------------------------------------------------------------
# The scenarios (issue 4, "Tests" 1 to 7).

# 1. A standard plan of the current version on the next minor: refused, the message gives both
#    versions and the two fixes.
s1_standard_on_newer() {
    run_cmd "$minor" run "$scratch/std.plan" "${run_flags[@]}"
    expect_refused "$cur_ver" "$minor_ver" rebuild --version-compatible || return 1
    run_cmd "$minor" check "$scratch/std.plan"
    expect_refused "$cur_ver" "$minor_ver" || return 1
}

# 2. A version-compatible plan on the next minor without host code allowed: refused, naming the
#    API call and the CLI flag.
s2_vc_needs_host_code() {
    run_cmd "$minor" run "$scratch/vc.plan" "${run_flags[@]}"
    expect_refused o2p_runtime_set_engine_host_code_allowed --allow-host-code || return 1
    run_cmd "$minor" check "$scratch/vc.plan"
    expect_refused o2p_runtime_set_engine_host_code_allowed --allow-host-code || return 1
}

# 3. The same with host code allowed: runs through the plan's embedded lean runtime (the next
#    minor cannot read the older ENGINE section by itself), with the reference's outputs.
s3_vc_runs_embedded() {
    run_cmd "$minor" check "$scratch/vc.plan" --allow-host-code
    expect_ok || return 1
    run_cmd "$minor" run "$scratch/vc.plan" "${run_flags[@]}" --allow-host-code -v \
        --save-outputs "$scratch/s3.npz"
    expect_ok || return 1
    expect_lean_runtime embedded "$cur_ver" || return 1
    expect_same_outputs "$scratch/s3.npz" "$ref" || return 1
}

# 4. An --exclude-lean-runtime plan: refused alone; runs with the current version's lean library
#    given with --load-runtime; a lean library of another version is refused by path and version.
s4_excluded_lean_runtime() {
    run_cmd "$minor" run "$scratch/vc-nolean.plan" "${run_flags[@]}" --allow-host-code
    expect_refused o2p_runtime_load_runtime --load-runtime || return 1
    run_cmd "$minor" run "$scratch/vc-nolean.plan" "${run_flags[@]}" --allow-host-code \
        --load-runtime "$cur_lean" -v --save-outputs "$scratch/s4.npz"
    expect_ok || return 1
    expect_lean_runtime loaded "$cur_ver" || return 1
    expect_same_outputs "$scratch/s4.npz" "$ref" || return 1
    local lib ver
    for lib in "$major1_dir/libo2p_lean.so:$major1_ver" "$minor_dir/libo2p_lean.so:$minor_ver"; do
        ver=${lib##*:}
        lib=${lib%:*}
        run_cmd "$minor" run "$scratch/vc-nolean.plan" "${run_flags[@]}" --allow-host-code \
            --load-runtime "$lib"
        expect_refused "$lib" "$ver" || return 1
    done
}

# 5. Plans of the next minor (standard and version-compatible) on the current runtime: refused,
#    the message gives both versions.
s5_newer_plan_on_older() {
    run_cmd "$cur" run "$scratch/std-minor.plan" "${run_flags[@]}"
    expect_refused "$minor_ver" "$cur_ver" || return 1
    run_cmd "$cur" run "$scratch/vc-minor.plan" "${run_flags[@]}" --allow-host-code
    expect_refused "$minor_ver" "$cur_ver" || return 1
    run_cmd "$cur" check "$scratch/vc-minor.plan" --allow-host-code
    expect_refused "$minor_ver" "$cur_ver" || return 1
}

# 6. Tempfile controls: in-memory files denied, temporary files allowed into a fresh directory:
#    runs from a temporary file and leaves the directory empty; both denied: refused, naming
#    both controls. Nothing any run did left a file in $TMPDIR.
s6_tempfile_controls() {
    local tdir=$scratch/tempdir
    rm -rf "$tdir"
    mkdir "$tdir"
    run_cmd "$minor" run "$scratch/vc.plan" "${run_flags[@]}" --allow-host-code -v \
        --tempfile-controls in_memory:deny,temporary:allow --tempdir "$tdir" \
        --save-outputs "$scratch/s6.npz"
    expect_ok || return 1
    expect_lean_runtime embedded "$cur_ver" temporary || return 1
    expect_same_outputs "$scratch/s6.npz" "$ref" || return 1
    expect_empty_dir "$tdir" || return 1
    run_cmd "$minor" run "$scratch/vc.plan" "${run_flags[@]}" --allow-host-code -v \
        --tempfile-controls in_memory:allow,temporary:deny --tempdir "$tdir"
    expect_ok || return 1
    expect_lean_runtime embedded "$cur_ver" in-memory || return 1
    expect_empty_dir "$tdir" || return 1
    run_cmd "$minor" run "$scratch/vc.plan" "${run_flags[@]}" --allow-host-code \
        --tempfile-controls in_memory:deny,temporary:deny --tempdir "$tdir"
    expect_refused in_memory temporary || return 1
    expect_empty_dir "$tdir" || return 1
    expect_empty_dir "$TMPDIR" || return 1
}

# 7. Next-major rules: a version-compatible plan of major M runs on M+1 (through its embedded
#    lean runtime, with the reference's outputs) and is refused by M+2 with both versions named;
#    a version-compatible plan of M+1 is refused by M.
s7_next_major() {
    run_cmd "$major1" run "$scratch/vc.plan" "${run_flags[@]}" --allow-host-code -v \
        --save-outputs "$scratch/s7.npz"
    expect_ok || return 1
    expect_lean_runtime embedded "$cur_ver" || return 1
    expect_same_outputs "$scratch/s7.npz" "$ref" || return 1
    run_cmd "$major2" run "$scratch/vc.plan" "${run_flags[@]}" --allow-host-code
    expect_refused "$cur_ver" "$major2_ver" || return 1
    run_cmd "$major2" check "$scratch/vc.plan" --allow-host-code
    expect_refused "$cur_ver" "$major2_ver" || return 1
    run_cmd "$cur" run "$scratch/vc-major1.plan" "${run_flags[@]}" --allow-host-code
    expect_refused "$major1_ver" "$cur_ver" || return 1
}

# 8. Plugins (issue 5): a version-compatible plan with a plugin layer (InstanceNormalization as
#    the plugin) carries the plugin library; the next minor refuses it without host code, and
#    with host code runs it through the embedded lean runtime and the embedded plugin library
#    (the default registry is emptied so nothing else can serve), with the current version's
#    outputs.
s8_vc_plugin_plan() {
    local m=${O2P_TESTDATA_DIR:-/usr/share/libonnx-testdata/data}/node/test_instancenorm_example/model.onnx
    [[ -f $m ]] || { reason="no ONNX test data ($m)"; return 1; }
    run_cmd "$cur" "$m" -o "$scratch/vc-plugin.plan" --target host --version-compatible --plugin-instancenorm
    expect_ok || return 1
    run_cmd "$cur" inspect "$scratch/vc-plugin.plan"
    expect_ok || return 1
    grep -q PLUGIN_LIBRARY "$last_out" || { fail "the plan carries no PLUGIN_LIBRARY section"; return 1; }
    run_cmd "$cur" run "$scratch/vc-plugin.plan" "${run_flags[@]}" --allow-host-code \
        --save-outputs "$scratch/s8-ref.npz"
    expect_ok || return 1
    run_cmd "$minor" run "$scratch/vc-plugin.plan" "${run_flags[@]}"
    expect_refused o2p_runtime_set_engine_host_code_allowed --allow-host-code || return 1
    run_cmd env O2P_PLUGINS_LIBRARY=/nonexistent/libo2p_plugins.so "$minor" run \
        "$scratch/vc-plugin.plan" "${run_flags[@]}" --allow-host-code -v \
        --save-outputs "$scratch/s8.npz"
    expect_ok || return 1
    expect_lean_runtime embedded "$cur_ver" || return 1
    expect_same_outputs "$scratch/s8.npz" "$scratch/s8-ref.npz" || return 1
}

if s1_standard_on_newer; then verdict 1-standard-plan-on-newer-minor; else verdict 1-standard-plan-on-newer-minor failed; fi
if s2_vc_needs_host_code; then verdict 2-vc-plan-needs-host-code; else verdict 2-vc-plan-needs-host-code failed; fi
if s3_vc_runs_embedded; then verdict 3-vc-plan-runs-embedded-lean; else verdict 3-vc-plan-runs-embedded-lean failed; fi
if s4_excluded_lean_runtime; then verdict 4-excluded-lean-runtime; else verdict 4-excluded-lean-runtime failed; fi
if s5_newer_plan_on_older; then verdict 5-newer-plan-on-older-runtime; else verdict 5-newer-plan-on-older-runtime failed; fi
if s6_tempfile_controls; then verdict 6-tempfile-controls; else verdict 6-tempfile-controls failed; fi
if s7_next_major; then verdict 7-next-major-rules; else verdict 7-next-major-rules failed; fi
if s8_vc_plugin_plan; then verdict 8-vc-plugin-plan; else verdict 8-vc-plugin-plan failed; fi
summary_and_exit
