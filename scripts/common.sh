# common.sh: shell functions shared by scripts/demo and scripts/test (sourced, not run).
# They install what a fresh Debian 12 machine lacks, and configure and build the project.
# shellcheck shell=bash

# The repository root, whatever the caller's current directory; the scripts cd to it.
O2P_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
O2P_VENV="$O2P_ROOT/.venv"
cd "$O2P_ROOT" || exit 1

# Debian packages the build and the tests need. python3-venv: Debian's python3 cannot make a
# virtual environment without it.
O2P_APT_PACKAGES=(cmake ninja-build pkg-config gcc libc6-dev protobuf-c-compiler
    libprotobuf-c-dev check libonnx-dev libonnx-testdata python3 python3-venv)
# Python modules (import name = PyPI name) the model scripts and tests use.
O2P_PY_MODULES=(onnx numpy onnxruntime)

o2p_step_start=$SECONDS

# Prints a step heading, with the seconds since the script started.
step()
{
    printf '\n==> [%4ds] %s\n' "$((SECONDS - o2p_step_start))" "$*"
}

note()
{
    printf '    %s\n' "$*"
}

die()
{
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Prints a command, then runs it.
run()
{
    printf '    $ %s\n' "$*"
    "$@"
}

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root()
{
    if [[ $(id -u) -eq 0 ]]; then
        run "$@"
    elif command -v sudo >/dev/null 2>&1; then
        run sudo "$@"
    else
        die "'$*' needs root and sudo is not installed; run this script as root"
    fi
}

# Installs the Debian packages that are missing; does nothing (no apt-get) when none is.
ensure_apt_packages()
{
    step "Checking Debian packages: ${O2P_APT_PACKAGES[*]}"
    local missing=() pkg
    for pkg in "${O2P_APT_PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        note "all installed"
        return 0
    fi
    note "missing: ${missing[*]}"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
}

# Makes the virtual environment at .venv (again, if the one there is broken) and installs the
# Python modules that cannot be imported from it.
ensure_venv()
{
    step "Checking the Python virtual environment $O2P_VENV (${O2P_PY_MODULES[*]})"
    if [[ -e $O2P_VENV ]] && ! "$O2P_VENV/bin/python" -c 'pass' >/dev/null 2>&1; then
        note "$O2P_VENV is broken (its Python does not start): making it again"
        run rm -rf "$O2P_VENV"
    fi
    if [[ ! -e $O2P_VENV ]]; then
        run python3 -m venv "$O2P_VENV"
    fi
    local missing=() module
    for module in "${O2P_PY_MODULES[@]}"; do
        if ! "$O2P_VENV/bin/python" -c "import $module" >/dev/null 2>&1; then
            missing+=("$module")
        fi
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        note "all importable"
    else
        note "missing: ${missing[*]}"
        run "$O2P_VENV/bin/python" -m pip install --disable-pip-version-check -q "${missing[@]}"
    fi
    # Tests that run "python3" get the venv's.
    export VIRTUAL_ENV="$O2P_VENV"
    export PATH="$O2P_VENV/bin:$PATH"
}

# Prints the versions of the tools the build uses.
show_tools()
{
    step "Tools"
    note "$(cmake --version | head -n1); ninja $(ninja --version); $(gcc --version | head -n1)"
    note "protoc-c $(protoc-c --version 2>&1 | head -n1); $("$O2P_VENV/bin/python" --version)"
}

# configure_and_build DIR TARGET [CMAKE ARGS...]
# Configures DIR (relative to the repository root, the current directory) with Ninja and
# RelWithDebInfo plus the given cache arguments, then builds TARGET ("" for everything).
configure_and_build()
{
    local dir=$1 target=$2
    shift 2
    # A build folder made with another generator cannot be reconfigured with Ninja.
    if [[ -f $dir/CMakeCache.txt ]] && ! grep -qx 'CMAKE_GENERATOR:INTERNAL=Ninja' "$dir/CMakeCache.txt"; then
        note "$dir was configured with another generator: starting it afresh"
        run rm -rf "$dir/CMakeCache.txt" "$dir/CMakeFiles" || return 1
    fi
    # Explicit returns: callers use this in an "if", where set -e does not apply.
    step "Configuring $dir"
    run cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" || return 1
    step "Building $dir${target:+ (target $target)}"
    if [[ -n $target ]]; then
        run cmake --build "$dir" --target "$target" || return 1
    else
        run cmake --build "$dir" || return 1
    fi
}
