//! The examples and exit codes each subcommand's `--help` ends with.

pub const MAIN: &str = "\
Examples:
  loopguard check                          every shipped scenario × preset (the CI gate)
  loopguard run scenarios/repeated_440.toml --preset legacy
  loopguard report reports                 rebuild the report from run folders
  loopguard completions bash > ~/.local/share/bash-completion/completions/loopguard

Exit codes:
  0    every verdict as expected
  1    a verdict not as expected (fail, crashed, hung, runaway), an incomplete run folder
  2    bad input: a scenario refused, a missing file or folder, no runs, an unusable --out
  130  interrupted (SIGINT or SIGTERM): the reports are written for what finished";

pub const RUN: &str = "\
Each run is a worker process of its own (a crash, a hang or a runaway trace is a
verdict, not the end of loopguard). Writes only the run folders
<out>/<scenario>.<preset>/ (trace.csv, summary.json, timeline.svg/.png, index.html,
the scenario and policy copies, timing.json); the batch's index.html, report.md,
junit.xml and summary.json stay as `check` or `report` wrote them.

Examples:
  loopguard run scenarios/repeated_440.toml --preset legacy --seed 7
  loopguard run scenarios/soak_24h.toml --engine fast
  loopguard run scenarios/a.toml scenarios/b.toml --out /tmp/runs

Exit codes:
  0    every run as its scenario expects
  1    a run not as expected (fail, crashed, hung, runaway)
  2    bad input (the others still run and are written), an unusable --out
  130  interrupted (SIGINT or SIGTERM)";

pub const CHECK: &str = "\
Prints a plan line, each run's line the moment it finishes (`ok` or the verdict in
capitals: FAIL, CRASHED, HUNG, RUNAWAY, INTERRUPTED; `caught:` lists the bugs found
as expected), a progress bar at a terminal (current runs, failures, ETA) or a
heartbeat line when piped, and a recap of the failures with replay commands and the
elapsed time. The longest runs start first (virtual length × users, instances and
tabs). Writes <out>/index.html, report.md, junit.xml, summary.json and, when
$GITHUB_STEP_SUMMARY is set, a short table there. Colour: --color, NO_COLOR.

Examples:
  loopguard check                                   scenarios/ with every preset
  loopguard check scenarios/repeated_440.toml scenarios/production/
  loopguard check --filter 'repeated_*' --filter legacy
  loopguard check --filter '*.stable' --list        the plan, without running it
  loopguard check --engine fast --jobs 2 --run-timeout 5m

Exit codes:
  0    every verdict as expected
  1    a verdict not as expected (fail, crashed, hung, runaway)
  2    bad input (a scenario refused, an unknown preset, a missing path, no runs
       selected, a bad --filter), an unusable --out
  130  interrupted (SIGINT or SIGTERM): reports written for what finished";

pub const REPORT: &str = "\
Rebuilds index.html, report.md, junit.xml and summary.json (and the timelines) from
the complete run folders of each DIR. Several DIRs are merged into --out (default:
the first DIR): their run folders are copied there, a later one replacing an earlier
one of the same name. Several explore batches (each with its explore summary.json)
merge as explore batches. An incomplete run folder is named and left out.

Examples:
  loopguard report                          reports/
  loopguard report shard-1 shard-2 --out merged

Exit codes:
  0  every verdict as expected
  1  a verdict not as expected, or an incomplete run folder
  2  a missing folder, no runs found, or bad input recorded by the batch";

pub const REPLAY: &str = "\
Examples:
  loopguard replay reports/repeated_440.legacy

Exit codes:
  0  identical trace
  1  the traces differ
  2  the run folder is incomplete or its copies cannot be read";

pub const EXPLORE: &str = "\
Examples:
  loopguard explore --preset stable --seeds 1..100
  loopguard explore --preset legacy --time 10m --keep-going
  loopguard explore --shard 2/3 --out reports/explore-2

Exit codes:
  0  no schedule broke an invariant
  1  a schedule failed (its minimal scenario is written under --found)
  2  bad input (unknown preset, bad --seeds, --time or --shard)";

pub const IMPORT: &str = "\
Examples:
  loopguard import service.log --out scenarios/incident.toml
  loopguard import service.log --window 10m..40m --check

Exit codes:
  0  scenario written (with --check: the log is reproduced)
  1  with --check: the simulation does not reproduce the log
  2  bad input (an unreadable log, a bad --window or --user-map)";

pub const PRESETS: &str = "\
Examples:
  loopguard presets

Exit codes:
  0  presets listed";

pub const COMPLETIONS: &str = "\
Examples:
  loopguard completions bash > ~/.local/share/bash-completion/completions/loopguard
  loopguard completions zsh > ~/.zfunc/_loopguard
  loopguard completions fish > ~/.config/fish/completions/loopguard.fish

Exit codes:
  0  completions printed";

pub const SCHEMA: &str = "\
The JSON Schema of scenario files, generated from the model; the project keeps it
as scenario.schema.json so that Taplo and Even Better TOML complete and check
scenario files (first line of a scenario: #:schema ../scenario.schema.json).

Examples:
  loopguard schema > scenario.schema.json

Exit codes:
  0  schema printed";
