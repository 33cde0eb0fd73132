# Shared by scripts/start and scripts/test: build what the project needs, idempotently.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export TROLYHUE_VAR=${TROLYHUE_VAR:-$ROOT/var}
export RASA_TELEMETRY_ENABLED=false

# Rasa, with the settings of scripts/rasa.env (reproducible training) for Rasa only: a fixed PYTHONHASHSEED in
# the public services would open them to hash flooding. env(1) execs Rasa, so a background job's pid is Rasa's.
# shellcheck disable=SC2046
RASA=(env $(grep -v '^#' "$ROOT/scripts/rasa.env") "$ROOT/.venv-rasa/bin/rasa")

say() { printf '\033[1m[trolyhue %dm%02ds]\033[0m %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

apt_install() {
    # apt_install PACKAGE... : install the Debian packages that are missing.
    local missing=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "please install Debian packages: sudo apt-get install ${missing[*]}"
    say "installing Debian packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

python_version_ok() {
    # python_version_ok PYTHON MIN_MINOR MAX_MINOR : is it a 3.x in that range?
    "$1" -c "import sys; sys.exit(not (sys.version_info[0] == 3 and $2 <= sys.version_info[1] <= $3))" 2>/dev/null
}

find_python() {
    # find_python MIN_MINOR MAX_MINOR : print the newest interpreter in range, or fail.
    local min=$1 max=$2 candidate minor
    for ((minor = max; minor >= min; minor--)); do
        for candidate in "python3.$minor" /root/.pyenv/versions/3."$minor".*/bin/python3 \
                         /usr/local/bin/python3."$minor" /usr/bin/python3."$minor"; do
            if command -v "$candidate" >/dev/null 2>&1 && python_version_ok "$candidate" "$min" "$max"; then
                command -v "$candidate"; return 0
            fi
        done
    done
    for candidate in python3 /usr/bin/python3; do
        if python_version_ok "$candidate" "$min" "$max"; then command -v "$candidate"; return 0; fi
    done
    return 1
}

requirements_stamp() {
    # requirements_stamp FILE : a line naming FILE and the hash of what it installs (it may -r requirements.txt).
    echo "$1 $(cat "$ROOT/$1" "$ROOT/requirements.txt" | sha256sum | cut -d' ' -f1)"
}

ensure_venv() {
    # ensure_venv DIR PYTHON REQUIREMENTS_FILE : create the venv and install what changed.
    local dir=$1 python=$2 requirements=$3
    local stamp="$dir/.requirements.sha256"
    if [ ! -x "$dir/bin/python" ]; then
        say "creating $dir with $("$python" --version)"
        "$python" -m venv "$dir" 2>/dev/null || { apt_install python3-venv; "$python" -m venv "$dir"; }
    fi
    if ! grep -qxF "$(requirements_stamp "$requirements")" "$stamp" 2>/dev/null; then
        say "installing $requirements into $dir"
        "$dir/bin/python" -m pip install -q --upgrade pip
        "$dir/bin/python" -m pip install -q -r "$ROOT/$requirements"
        # What includes requirements.txt (-r) satisfies it too: scripts/start after scripts/test installs nothing.
        requirements_stamp "$requirements" > "$stamp"
        if grep -qx -- "-r requirements.txt" "$ROOT/$requirements"; then
            requirements_stamp requirements.txt >> "$stamp"
        fi
    fi
}

app_env() {
    # The application environment: a current Python (3.11 or newer).
    local python
    python=${TROLYHUE_PYTHON:-$(find_python 11 14)} || die \
        "no Python 3.11+ found: install one (apt-get install python3 python3-venv) or set TROLYHUE_PYTHON=/path/to/python3"
    ensure_venv "$ROOT/.venv" "$python" "$1"
    apt_install espeak-ng  # the offline Vietnamese voices (gTTS needs Google)
}

telegram_emulator() {
    # The Bot API emulator the Telegram tests use (npm telegram-test-api): Node and the locked packages.
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    local dir="$ROOT/tests/telegram" stamp
    stamp=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
    if [ "$(cat "$dir/node_modules/.installed" 2>/dev/null)" != "$stamp" ]; then
        say "installing the Telegram emulator's packages (npm ci)"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >&2
        echo "$stamp" > "$dir/node_modules/.installed"
    fi
}

rasa_env() {
    # The dialogue engine: Rasa 3.6 runs on Python 3.8 to 3.10 only.
    local python
    python=${TROLYHUE_RASA_PYTHON:-$(find_python 10 10)} || die \
        "Rasa 3.6 needs Python 3.10 and none was found: install one (e.g. 'pyenv install 3.10.13') or set TROLYHUE_RASA_PYTHON=/path/to/python3.10"
    ensure_venv "$ROOT/.venv-rasa" "$python" requirements-rasa.txt
}

train_if_changed() {
    # Starts at the same moment (one more Rasa server) train once: the later waits, then finds the model current.
    mkdir -p "$ROOT/models"
    exec 9>"$ROOT/models/.train.lock"
    flock 9
    train_when_stale
    exec 9>&-
}

nlu_hash() {
    # What a trained model depends on: the domain, config, training data, our NLU components and their settings.
    { find "$ROOT/nlu_data" -name '*.yml' -print0 | sort -z | xargs -0 cat
      cat "$ROOT/config.yml" "$ROOT/domain.yml" "$ROOT"/hue_nlu/*.py "$ROOT/common/text.py" \
        "$ROOT/common/numbers.py" "$ROOT/scripts/rasa.env"; } | sha256sum | cut -d' ' -f1
}

train_when_stale() {
    # Train models/trolyhue.tar.gz when the domain, config, training data or our NLU components changed.
    local stamp="$ROOT/models/.trained.sha256" wanted
    wanted=$(nlu_hash)
    if [ -f "$ROOT/models/trolyhue.tar.gz" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
        return 0
    fi
    say "training the assistant (about 20 seconds; log in $TROLYHUE_VAR/train.log)"
    mkdir -p "$TROLYHUE_VAR"
    if ! (cd "$ROOT" && "${RASA[@]}" train --quiet --data nlu_data --config config.yml \
            --domain domain.yml --out models --fixed-model-name trolyhue) > "$TROLYHUE_VAR/train.log" 2>&1; then
        tail -n 40 "$TROLYHUE_VAR/train.log" >&2
        die "training failed (see $TROLYHUE_VAR/train.log)"
    fi
    echo "$wanted" > "$stamp"
}

random_secret() { head -c 24 /dev/urandom | base64 | tr -d '/+='; }

local_secrets() {
    # Secrets come from the environment; for a local run, make random ones once under var/
    # (adding any a newer version needs) and use those that the environment does not set.
    local file="$TROLYHUE_VAR/secrets.env" key value
    mkdir -p "$TROLYHUE_VAR"
    ( umask 077; touch "$file" )
    if ! grep -q '^CITYAPI_API_KEY=' "$file"; then
        key=$(random_secret)
        printf 'CITYAPI_API_KEY=%s\nCITYAPI_API_KEYS=assistant:%s\n' "$key" "$key" >> "$file"
    fi
    grep -q '^CITYAPI_OFFICER_TOKENS=' "$file" || echo "CITYAPI_OFFICER_TOKENS=officer:$(random_secret)" >> "$file"
    grep -q '^RASA_TOKEN=' "$file" || echo "RASA_TOKEN=$(random_secret)" >> "$file"
    grep -q '^HOTLINE_AUTH_TOKEN=' "$file" || echo "HOTLINE_AUTH_TOKEN=$(random_secret)" >> "$file"
    while IFS='=' read -r key value; do
        [ -n "${!key:-}" ] || export "$key=$value"
    done < "$file"
}

# Services run by scripts/start and scripts/topology: each in the background, its pid in $TROLYHUE_VAR/run.
declare -A pids=()

launch() {
    # launch NAME COMMAND... : start a service in the background, its pid in var/run/NAME.pid.
    local name=$1; shift
    mkdir -p "$TROLYHUE_VAR/run"
    "$@" &
    pids[$name]=$!
    echo $! > "$TROLYHUE_VAR/run/$name.pid"
}

stop_services() {
    trap - INT TERM EXIT
    kill "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -f "$TROLYHUE_VAR"/run/*.pid
}

wait_until() {
    # wait_until WHAT COMMAND... : until COMMAND succeeds; dies if a launched service stops meanwhile.
    local what=$1; shift
    until "$@" >/dev/null 2>&1; do
        for name in "${!pids[@]}"; do kill -0 "${pids[$name]}" 2>/dev/null || die "$name stopped while $what"; done
        sleep 1
    done
}

serve() {
    # serve KIND NAME PORT : launch one service of KIND (cityapi actions rasa gateway) as NAME on loopback PORT.
    local kind=$1 name=$2 port=$3
    case $kind in
        cityapi) launch "$name" env SERVICE_NAME="$name" .venv/bin/python -m cityapi --port "$port" ;;
        actions) launch "$name" env SERVICE_NAME="$name" .venv/bin/python -m rasa_sdk --actions actions \
                     --port "$port" ;;
        rasa) launch "$name" "${RASA[@]}" run --enable-api --auth-token "$RASA_TOKEN" --port "$port" \
                  --interface 127.0.0.1 --model models/trolyhue.tar.gz --endpoints endpoints.yml \
                  --credentials credentials.yml ;;
        gateway) launch "$name" env SERVICE_NAME="$name" .venv/bin/python -m bot --port "$port" ;;
        *) die "unknown service $kind" ;;
    esac
}

local_postgres() {
    # local_postgres DB... : Debian's PostgreSQL running, a superuser role named after us, and these databases.
    apt_install postgresql
    local cluster me db
    cluster=$(pg_lsclusters -h | awk 'NR == 1 {print $1 " " $2}')
    [ -n "$cluster" ] || die "no PostgreSQL cluster after installing postgresql"
    # shellcheck disable=SC2086
    pg_lsclusters -h | awk 'NR == 1 {print $4}' | grep -q online || pg_ctlcluster $cluster start
    me=$(id -un)
    su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname = '$me'\"" | grep -q 1 \
        || su postgres -c "createuser --superuser '$me'"
    for db in "$@"; do
        psql -d postgres -qtAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 || createdb "$db"
    done
}

rasa_ready() {
    # rasa_ready URL : the Rasa server there has loaded its model.
    curl -fs "$1/status?token=$RASA_TOKEN" 2>/dev/null | grep -q '"model_file"'
}

supervise() {
    # Until every service has stopped: one stopping does not stop the others (the assistant keeps reports while
    # the city is down; a replica's peers carry on).
    while [ ${#pids[@]} -gt 0 ]; do
        wait -n "${pids[@]}" || true
        for name in "${!pids[@]}"; do
            if ! kill -0 "${pids[$name]}" 2>/dev/null; then
                say "$name stopped"
                unset "pids[$name]"
            fi
        done
    done
}
