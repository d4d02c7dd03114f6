//! The optimised Dockerfile: each finding the rules can fix without guessing is fixed, and re-linting the result
//! shows what is left (a base image we know no version of, a script piped into a shell).
//!
//! Comments are not carried over, and `\` continuations are rewritten: a `RUN` of several commands is written one
//! command per line.

use super::{DockerfileOptimizer, Instruction, instructions};

/// Versions for the official images whose tag is missing or `latest`: current stable majors, so the build is
/// reproducible until someone chooses to move.
const PINS: [(&str, &str); 15] = [
    ("alpine", "3.22"),
    ("debian", "12"),
    ("eclipse-temurin", "21"),
    ("golang", "1.25"),
    ("httpd", "2.4"),
    ("maven", "3.9"),
    ("nginx", "1.27"),
    ("node", "22"),
    ("php", "8.3"),
    ("postgres", "17"),
    ("python", "3.13"),
    ("redis", "7.4"),
    ("ruby", "3.3"),
    ("rust", "1.94"),
    ("ubuntu", "24.04"),
];

/// A dependency installation, and the manifests it reads (copied before the sources so the layer is cached until
/// they change). `None`: the manifest is the file named after `-r` (a `pip install` of named packages reads none).
const INSTALLS: [(&str, Option<&str>); 9] = [
    ("npm ci", Some("package*.json")),
    ("npm install", Some("package*.json")),
    ("yarn install", Some("package.json yarn.lock")),
    ("pnpm install", Some("package.json pnpm-lock.yaml")),
    ("pip install", None),
    ("pip3 install", None),
    ("go mod download", Some("go.mod go.sum")),
    ("bundle install", Some("Gemfile Gemfile.lock")),
    ("composer install", Some("composer.json composer.lock")),
];

/// Instructions that only configure the running container, which a runtime stage keeps.
const RUNTIME_ONLY: [&str; 7] = ["CMD", "ENTRYPOINT", "EXPOSE", "HEALTHCHECK", "USER", "VOLUME", "STOPSIGNAL"];

/// The unprivileged user the optimised image runs as (numeric, so it needs no `useradd` in the image).
const UNPRIVILEGED: &str = "10001:10001";

/// The image a single-stage Go or Rust build ships its binary in.
const SLIM_RUNTIME: &str = "debian:12-slim";

/// An optimised Dockerfile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Optimized {
    /// The rewritten Dockerfile.
    pub dockerfile: String,
    /// What was changed, one line per change.
    pub changes: Vec<String>,
}

/// Whether `command` runs `program` (`npm install`, not the `npm install` inside `pnpm install`).
pub(super) fn runs(command: &str, program: &str) -> bool {
    command.match_indices(program).any(|(at, _)| {
        command[..at].chars().next_back().is_none_or(|c| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '('))
    })
}

fn install_manifests(command: &str) -> Option<String> {
    let (_, manifests) = INSTALLS.iter().find(|(p, _)| runs(command, p))?;
    match manifests {
        Some(files) => Some((*files).to_owned()),
        None => {
            let words: Vec<&str> = command.split_whitespace().collect();
            let flag = words.iter().position(|w| matches!(*w, "-r" | "--requirement"))?;
            // A requirements file in a folder would land elsewhere when copied on its own: left as it is.
            words.get(flag + 1).filter(|file| !file.contains('/')).map(|file| (*file).to_owned())
        }
    }
}

/// Whether a `RUN` installs dependencies from manifests (so that it belongs before the sources are copied).
pub(super) fn installs_from_manifests(args: &str) -> bool {
    args.split("&&").any(|command| install_manifests(command).is_some())
}

/// The sources and destination of a shell-form `COPY`, without its flags.
fn copy_parts(args: &str) -> Option<(Vec<&str>, &str)> {
    if args.trim_start().starts_with('[') {
        return None;
    }
    let mut words: Vec<&str> = args.split_whitespace().filter(|w| !w.starts_with("--")).collect();
    let dest = words.pop()?;
    Some((words, dest))
}

/// Whether a `COPY` copies the whole build context.
pub(super) fn copies_everything(instruction: &Instruction) -> bool {
    matches!(instruction.keyword.as_str(), "COPY" | "ADD")
        && !instruction.args.contains("--from")
        && copy_parts(&instruction.args).is_some_and(|(sources, _)| sources.iter().any(|s| matches!(*s, "." | "./")))
}

struct Stage {
    flags: Vec<String>,
    image: String,
    name: Option<String>,
    body: Vec<Instruction>,
}

fn from_parts(args: &str) -> (Vec<String>, String, Option<String>) {
    let words: Vec<&str> = args.split_whitespace().collect();
    let flags = words.iter().take_while(|w| w.starts_with("--")).map(|w| (*w).to_owned()).collect::<Vec<_>>();
    let image = words.get(flags.len()).map_or(String::new(), |w| (*w).to_owned());
    let name =
        words.iter().position(|w| w.eq_ignore_ascii_case("as")).and_then(|i| words.get(i + 1)).map(|w| (*w).to_owned());
    (flags, image, name)
}

fn stages(all: Vec<Instruction>) -> (Vec<Instruction>, Vec<Stage>) {
    let mut preamble = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    for instruction in all {
        if instruction.keyword == "FROM" {
            let (flags, image, name) = from_parts(&instruction.args);
            stages.push(Stage { flags, image, name, body: Vec::new() });
        } else if let Some(stage) = stages.last_mut() {
            stage.body.push(instruction);
        } else {
            preamble.push(instruction);
        }
    }
    (preamble, stages)
}

fn instruction(keyword: &str, args: impl Into<String>) -> Instruction {
    Instruction { line: 0, keyword: keyword.to_owned(), args: args.into() }
}

/// The image with a version when it has none or `latest` and we know one; `None` when it needs no change.
fn pinned(image: &str) -> Option<String> {
    if image.contains('@') || image.contains('$') {
        return None;
    }
    let (repository, tag) = match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag)),
        _ => (image, None),
    };
    if tag.is_some_and(|t| t != "latest") {
        return None;
    }
    let short = repository.trim_start_matches("docker.io/").trim_start_matches("library/");
    PINS.iter().find(|(name, _)| *name == short).map(|(_, version)| format!("{repository}:{version}"))
}

/// Fixes one `RUN`'s package-manager flags and drops `sudo`.
fn fixed_run(args: &str, changes: &mut Vec<String>) -> String {
    let mut commands: Vec<String> = args.split("&&").map(|c| c.trim().to_owned()).collect();
    let mut apt = false;
    for command in &mut commands {
        let words: Vec<&str> = command.split_whitespace().collect();
        // `sudo -u app …` runs as another user on purpose: left alone.
        if words.first() == Some(&"sudo") && !words.get(1).is_some_and(|w| w.starts_with('-')) {
            *command = command.trim_start_matches("sudo").trim_start().to_owned();
            changes.push("removed `sudo`: build steps run as root; the image switches user at the end".into());
        }
        if command.contains("apt-get install") {
            apt = true;
            if !command.contains("--no-install-recommends") {
                *command = command.replacen("apt-get install", "apt-get install --no-install-recommends", 1);
                changes.push("apt-get install without recommended packages".into());
            }
        }
        if command.contains("apk add") && !command.contains("--no-cache") {
            *command = command.replacen("apk add", "apk add --no-cache", 1);
            changes.push("apk add without a package cache".into());
        }
        for pip in ["pip install", "pip3 install"] {
            if command.contains(pip) && !command.contains("--no-cache-dir") {
                *command = command.replacen(pip, &format!("{pip} --no-cache-dir"), 1);
                changes.push(format!("{pip} without a download cache"));
            }
        }
    }
    if apt && !args.contains("rm -rf /var/lib/apt/lists") {
        commands.push("rm -rf /var/lib/apt/lists/*".into());
        changes.push("apt lists removed in the same layer".into());
    }
    commands.join(" && ")
}

/// Moves dependency installation before the `COPY` of the whole context, with only its manifests copied first.
fn order_for_cache(stage: &mut Stage, changes: &mut Vec<String>) {
    let Some(copy_at) = stage.body.iter().position(copies_everything) else { return };
    // Only when the install comes right after the copy (settings between them aside): a step between them may
    // need the sources, or install what the install needs.
    let Some(run_at) =
        stage.body.iter().skip(copy_at + 1).position(|i| !matches!(i.keyword.as_str(), "ENV" | "ARG" | "LABEL"))
    else {
        return;
    };
    let run_at = copy_at + 1 + run_at;
    let install = &stage.body[run_at];
    if install.keyword != "RUN" {
        return;
    }
    let commands: Vec<&str> = install.args.split("&&").map(str::trim).collect();
    // The commands moved are the installs at its start; one that is not an install may need the sources.
    let prefix = commands.iter().take_while(|c| install_manifests(c).is_some()).count();
    if prefix == 0 {
        return;
    }
    let manifests: Vec<String> = commands[..prefix].iter().filter_map(|c| install_manifests(c)).collect();
    let Some((_, dest)) = copy_parts(&stage.body[copy_at].args) else { return };
    let dest = dest.to_owned();
    let commands: Vec<String> = stage.body[run_at].args.split("&&").map(|c| c.trim().to_owned()).collect();
    let (install, rest) = commands.split_at(prefix);
    let install = install.join(" && ");
    if rest.is_empty() {
        stage.body.remove(run_at);
    } else {
        stage.body[run_at].args = rest.join(" && ");
    }
    let mut files: Vec<String> = Vec::new();
    for manifest in manifests.iter().flat_map(|m| m.split_whitespace()) {
        if !files.iter().any(|f| f == manifest) {
            files.push(manifest.to_owned());
        }
    }
    let dest = if dest.ends_with('/') { dest } else { format!("{dest}/") };
    stage.body.insert(copy_at, instruction("RUN", install.clone()));
    stage.body.insert(copy_at, instruction("COPY", format!("{} {dest}", files.join(" "))));
    changes.push(format!("`{install}` runs on the manifests ({}) before the sources are copied", files.join(", ")));
}

fn absolute(path: &str, workdir: Option<&str>) -> String {
    match workdir {
        _ if path.starts_with('/') => path.to_owned(),
        Some(dir) => format!("{}/{}", dir.trim_end_matches('/'), path.trim_start_matches("./")),
        None => format!("/{}", path.trim_start_matches("./")),
    }
}

/// The built binary of a Go (`go build -o out`) or Rust (`cargo build --release`, run from `target/release/…`)
/// stage, as an absolute path.
fn built_binary(stage: &Stage, workdir: Option<&str>) -> Option<String> {
    for run in stage.body.iter().filter(|i| i.keyword == "RUN") {
        if let Some(at) = run.args.find("go build") {
            let words: Vec<&str> = run.args[at..].split_whitespace().collect();
            if let Some(out) = words.iter().position(|w| *w == "-o").and_then(|i| words.get(i + 1)) {
                return Some(absolute(out, workdir));
            }
        }
    }
    if stage.body.iter().any(|i| i.keyword == "RUN" && i.args.contains("cargo build") && i.args.contains("--release")) {
        return stage.body.iter().filter(|i| matches!(i.keyword.as_str(), "CMD" | "ENTRYPOINT")).find_map(|i| {
            let word = i.args.split(['"', ' ', '[', ']', ',']).find(|w| w.contains("target/release/"))?;
            Some(absolute(word, workdir))
        });
    }
    None
}

/// Splits a single-stage build into a build stage and a runtime stage that carries only what runs.
fn split_stages(stage: Stage, changes: &mut Vec<String>) -> Vec<Stage> {
    let workdir = stage.body.iter().rev().find(|i| i.keyword == "WORKDIR").map(|i| i.args.clone());
    // Only a Go or Rust binary is known to need nothing else of the build: packages installed for a Node or
    // Python application would be lost to a runtime stage that copies only its folder.
    let Some(binary) = built_binary(&stage, workdir.as_deref()) else { return vec![stage] };
    let (runtime, build): (Vec<Instruction>, Vec<Instruction>) =
        stage.body.into_iter().partition(|i| RUNTIME_ONLY.contains(&i.keyword.as_str()));
    let mut body: Vec<Instruction> =
        build.iter().filter(|i| i.keyword == "ENV").map(|i| instruction("ENV", i.args.clone())).collect();
    if let Some(dir) = &workdir {
        body.push(instruction("WORKDIR", dir.clone()));
    }
    body.push(instruction("COPY", format!("--from=build {binary} {binary}")));
    changes.push(format!("multi-stage: the binary {binary} ships in {SLIM_RUNTIME}, without the toolchain"));
    let image = SLIM_RUNTIME.to_owned();
    body.extend(runtime);
    vec![
        Stage { flags: stage.flags.clone(), image: stage.image, name: Some("build".into()), body: build },
        Stage { flags: stage.flags, image, name: None, body },
    ]
}

/// Makes the final stage run as [`UNPRIVILEGED`]: a final `USER root` becomes it, and a stage without `USER` gets it
/// before its run-time instructions.
fn run_unprivileged(stage: &mut Stage, changes: &mut Vec<String>) {
    let last_user = stage.body.iter().rposition(|i| i.keyword == "USER");
    if let Some(at) = last_user
        && !matches!(stage.body[at].args.split(':').next(), Some("root" | "0"))
    {
        return;
    }
    if let Some(at) = last_user {
        // Root was asked for to do something; the switch back comes after the last thing done as root.
        let after_root_work =
            stage.body.iter().rposition(|i| !RUNTIME_ONLY.contains(&i.keyword.as_str())).filter(|&w| w > at);
        match after_root_work {
            Some(work) => stage.body.insert(work + 1, instruction("USER", UNPRIVILEGED)),
            None => stage.body[at].args = UNPRIVILEGED.to_owned(),
        }
    } else {
        let runtime_tail =
            stage.body.iter().rposition(|i| !RUNTIME_ONLY.contains(&i.keyword.as_str())).map_or(0, |w| w + 1);
        stage.body.insert(runtime_tail, instruction("USER", UNPRIVILEGED));
    }
    changes.push(format!("the container runs as the unprivileged user {UNPRIVILEGED}"));
}

fn render(preamble: &[Instruction], stages: &[Stage], removed: &[String]) -> String {
    let mut out = String::new();
    for line in removed {
        out.push_str(&format!("# {line}\n"));
    }
    let write = |out: &mut String, i: &Instruction| {
        if i.keyword == "RUN" && i.args.contains("&&") {
            let commands: Vec<&str> = i.args.split("&&").map(str::trim).collect();
            out.push_str(&format!("RUN {}\n", commands.join(" \\\n    && ")));
        } else {
            out.push_str(&format!("{} {}\n", i.keyword, i.args));
        }
    };
    preamble.iter().for_each(|i| write(&mut out, i));
    for (n, stage) in stages.iter().enumerate() {
        if n > 0 || !preamble.is_empty() || !removed.is_empty() {
            out.push('\n');
        }
        let mut from = stage.flags.clone();
        from.push(stage.image.clone());
        if let Some(name) = &stage.name {
            from.push(format!("AS {name}"));
        }
        out.push_str(&format!("FROM {}\n", from.join(" ")));
        stage.body.iter().for_each(|i| write(&mut out, i));
    }
    out
}

impl DockerfileOptimizer {
    /// The Dockerfile with every finding fixed that can be fixed without guessing: versions for official base
    /// images, `COPY` for local `ADD`, package-manager caches and recommended packages, `sudo`, secrets in
    /// `ENV`/`ARG` (removed, to be passed at run time), dependency installs ordered for the layer cache, a
    /// single-stage build split into build and runtime stages, and an unprivileged final user.
    pub fn optimize(&self, text: &str) -> Optimized {
        let mut changes = Vec::new();
        let mut removed = Vec::new();
        let (mut preamble, mut stages) = stages(instructions(text));
        let secretish = ["password", "secret", "token", "api_key", "apikey", "private_key"];
        let mut strip_secrets = |body: &mut Vec<Instruction>, changes: &mut Vec<String>| {
            body.retain(|i| {
                let lower = i.args.to_ascii_lowercase();
                let secret = matches!(i.keyword.as_str(), "ENV" | "ARG")
                    && secretish.iter().any(|s| lower.contains(s))
                    && lower.contains('=');
                if secret {
                    let name = i.args.split(['=', ' ']).next().unwrap_or("the secret");
                    removed.push(format!("{} {name} was removed: pass it at run time (a secret in an image is readable by anyone who pulls it)", i.keyword));
                    changes.push(format!("the secret {name} is no longer baked into the image"));
                }
                !secret
            });
        };
        strip_secrets(&mut preamble, &mut changes);
        let names: Vec<String> =
            stages.iter().filter_map(|s| s.name.as_ref().map(|n| n.to_ascii_lowercase())).collect();
        for stage in &mut stages {
            strip_secrets(&mut stage.body, &mut changes);
            if !names.contains(&stage.image.to_ascii_lowercase())
                && let Some(pin) = pinned(&stage.image)
            {
                changes.push(format!("base image `{}` pinned to `{pin}`", stage.image));
                stage.image = pin;
            }
            for i in &mut stage.body {
                match i.keyword.as_str() {
                    "ADD" if !super::add_is_special(&i.args) => {
                        i.keyword = "COPY".into();
                        changes.push(format!("`ADD {}` is a `COPY`", i.args));
                    }
                    "RUN" => i.args = fixed_run(&i.args, &mut changes),
                    _ => {}
                }
            }
            order_for_cache(stage, &mut changes);
        }
        if stages.len() == 1 && self.lint(text).iter().any(|f| f.rule == "single-stage-build") {
            let only = stages.remove(0);
            stages = split_stages(only, &mut changes);
        }
        if let Some(last) = stages.last_mut() {
            run_unprivileged(last, &mut changes);
        }
        changes.dedup();
        Optimized { dockerfile: render(&preamble, &stages, &removed), changes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Vec<String> {
        DockerfileOptimizer.lint(text).into_iter().map(|f| f.rule).collect()
    }

    #[test]
    fn a_careless_node_image_is_rewritten_and_only_the_unfixable_remains() {
        let text = "FROM node:latest\n\
                    ENV API_TOKEN=abc123\n\
                    ENV NODE_ENV=production\n\
                    RUN sudo apt-get update && \\\n    apt-get install -y git\n\
                    RUN curl -fsSL https://get.example.sh | sh\n\
                    WORKDIR /app\n\
                    ADD . /app\n\
                    RUN npm ci && npm run build\n\
                    EXPOSE 3000\n\
                    USER root\n\
                    CMD [\"node\", \"dist/server.js\"]\n";
        let before = rules(text);
        let optimized = DockerfileOptimizer.optimize(text);
        let after = rules(&optimized.dockerfile);
        // A Node application keeps one stage (its installed packages would not follow its folder), and a script
        // piped into a shell cannot be fixed without knowing its checksum: both are reported, nothing else.
        assert_eq!(after, ["single-stage-build", "pipe-to-shell"], "{}", optimized.dockerfile);
        assert!(before.len() > 8, "{before:?}");
        assert_eq!(
            optimized.dockerfile,
            "# ENV API_TOKEN was removed: pass it at run time (a secret in an image is readable by anyone who pulls it)\n\n\
             FROM node:22\n\
             ENV NODE_ENV=production\n\
             RUN apt-get update \\\n    && apt-get install --no-install-recommends -y git \\\n    && rm -rf /var/lib/apt/lists/*\n\
             RUN curl -fsSL https://get.example.sh | sh\n\
             WORKDIR /app\n\
             COPY package*.json /app/\n\
             RUN npm ci\n\
             COPY . /app\n\
             RUN npm run build\n\
             EXPOSE 3000\n\
             USER 10001:10001\n\
             CMD [\"node\", \"dist/server.js\"]\n"
        );
    }

    #[test]
    fn what_needs_the_sources_or_another_user_is_left_where_it_is() {
        // A step between the copy and the install, a setup script before it, a requirements file in a folder:
        // not moved, and still reported.
        for text in [
            "FROM node:22\nWORKDIR /app\nCOPY . .\nRUN ./scripts/setup.sh\nRUN npm ci\nUSER 1\n",
            "FROM node:22\nWORKDIR /app\nCOPY . .\nRUN ./scripts/setup.sh && npm ci\nUSER 1\n",
        ] {
            let optimized = DockerfileOptimizer.optimize(text);
            assert!(optimized.dockerfile.contains("COPY . .\nRUN ./scripts/setup.sh"), "{}", optimized.dockerfile);
            assert!(rules(&optimized.dockerfile).contains(&"cache-busting-copy".to_owned()));
        }
        let nested = DockerfileOptimizer
            .optimize("FROM python:3.13\nCOPY . .\nRUN pip install -r requirements/prod.txt\nUSER 1\n");
        assert!(nested.dockerfile.contains("COPY . .\nRUN pip install --no-cache-dir -r requirements/prod.txt"));
        // pnpm is not npm; `sudo -u` keeps its user; an archive or a repository stays an ADD.
        let pnpm = DockerfileOptimizer
            .optimize("FROM node:22\nWORKDIR /app\nCOPY . .\nRUN pnpm install --frozen-lockfile\nUSER 1\n");
        assert!(
            pnpm.dockerfile.contains("COPY package.json pnpm-lock.yaml ./\nRUN pnpm install"),
            "{}",
            pnpm.dockerfile
        );
        let kept = DockerfileOptimizer.optimize("FROM alpine:3.22\nADD app.tgz /opt/\nRUN sudo -u app make\nUSER 1\n");
        assert!(kept.dockerfile.contains("ADD app.tgz /opt/\nRUN sudo -u app make"), "{}", kept.dockerfile);
        assert!(!rules("FROM alpine:3.22\nRUN cmake .\nUSER 1\n").contains(&"single-stage-build".to_owned()));
    }

    #[test]
    fn a_go_build_ships_its_binary_alone_and_a_clean_file_keeps_its_instructions() {
        let text = "FROM golang\nWORKDIR /src\nCOPY . .\nRUN go mod download && go build -o bin/api ./cmd/api\nENTRYPOINT [\"/src/bin/api\"]\n";
        let optimized = DockerfileOptimizer.optimize(text);
        assert_eq!(rules(&optimized.dockerfile), Vec::<String>::new(), "{}", optimized.dockerfile);
        assert!(
            optimized
                .dockerfile
                .contains("COPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\nRUN go build -o bin/api ./cmd/api\n")
        );
        assert!(optimized.dockerfile.contains("FROM debian:12-slim\nWORKDIR /src\nCOPY --from=build /src/bin/api /src/bin/api\nUSER 10001:10001\nENTRYPOINT"));

        let clean = "FROM rust:1.94-slim AS build\nWORKDIR /src\nCOPY . .\nRUN cargo build --release\n\nFROM debian:12-slim\nCOPY --from=build /src/target/release/app /usr/local/bin/app\nUSER 10001:10001\nENTRYPOINT [\"app\"]\n";
        let optimized = DockerfileOptimizer.optimize(clean);
        assert_eq!(optimized.changes, Vec::<String>::new());
        assert_eq!(optimized.dockerfile, clean);
    }

    #[test]
    fn an_image_we_know_no_version_of_stays_as_it_is_and_is_reported() {
        let optimized = DockerfileOptimizer.optimize("FROM acme/base\nRUN pip install flask\n");
        assert_eq!(rules(&optimized.dockerfile), ["unpinned-base-image"]);
        assert!(optimized.dockerfile.contains("pip install --no-cache-dir flask"));
    }
}
