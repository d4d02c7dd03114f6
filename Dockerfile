# The reference server's image. Build from the repository's root (BuildKit: dependencies and build outputs stay in
# cache mounts between builds, so a change to our sources rebuilds only our crates):
#
#   docker build -t agentic-server .
#   docker run -p 9000:9000 -e DATABASE_URL=... agentic-server
#
# The runtime stage is distroless: the binary, its C runtime and CA certificates, run as an unprivileged user, no
# shell. The migrations are inside the binary (`agentic-server migrate`); the health check is the binary itself.

FROM rust:1.94-slim-bookworm AS builder
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p agentic-server \
    && cp /src/target/release/agentic-server /usr/local/bin/agentic-server

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /usr/local/bin/agentic-server /usr/local/bin/agentic-server
USER 65532:65532
ENV AGENTIC_BIND=0.0.0.0:9000 \
    AGENTIC_METRICS_BIND=0.0.0.0:9464 \
    AGENTIC_LOG_FORMAT=json
EXPOSE 9000 9464
HEALTHCHECK --interval=10s --timeout=4s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/agentic-server", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/agentic-server"]
