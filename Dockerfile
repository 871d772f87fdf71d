# sqlready as a container, for scheduled compliance jobs (Kubernetes CronJob,
# CI). Build:   docker build -t sqlready .
# Run:          docker run --rm -v "$PWD:/work" -w /work -e APP_DB_PASSWORD sqlready \
#                   audit --config sqlready.toml --format sarif --output sqlready.sarif
#
# Stage 1 compiles a release binary. It links glibc and OpenSSL (libssl3,
# database TLS as psql does it: docs/tls.md; the cloud APIs use rustls; the
# check catalog is compiled in), so stage 2 is distroless "cc": glibc, libssl,
# libgcc, CA certificates, no shell, no package manager, running as the
# unprivileged user nonroot (uid 65532).

FROM rust:1.94-slim-bookworm AS build
# pg_query compiles libpg_query (the custom-query guard): bindgen needs libclang, prost protoc;
# openssl-sys (database TLS) needs libssl-dev, found through pkg-config.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libclang-dev protobuf-compiler libssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY vendor ./vendor
COPY checks ./checks
COPY benches ./benches
RUN cargo build --release --locked --bin sqlready \
 && strip target/release/sqlready \
 && ./target/release/sqlready --version

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/sqlready /usr/local/bin/sqlready
USER 65532:65532
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/sqlready"]
CMD ["audit", "--config", "/etc/sqlready/sqlready.toml"]
