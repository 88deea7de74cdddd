# syntax=docker/dockerfile:1
#
# Interlink container image: interlink-switch, interlinkctl and interlink-loadtest.
#
#   docker build -t interlink:0.1.0 .
#
# Stage "build" compiles the workspace. rdkafka builds librdkafka from source with its
# own configure + make, so it needs a C toolchain, make, perl, the zlib headers and
# (its `ssl` feature: TLS and SASL/SCRAM to the brokers) OpenSSL's headers, found
# through pkg-config; zlib and OpenSSL are the native libraries it links (dynamically).

FROM rust:1-bookworm AS build

RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake build-essential perl pkg-config zlib1g-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

COPY Cargo.toml Cargo.lock ./
COPY switch/ switch/
COPY connectors/ connectors/
COPY schemas/ schemas/
COPY loadtest/ loadtest/

# The registry cache mount only speeds up rebuilds (crates are not re-downloaded);
# target/ stays in the layer so the runtime stage can copy the binaries from it.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    cargo build --release --locked -p interlink-switch -p interlink-loadtest


FROM debian:bookworm-slim AS runtime

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates zlib1g libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 interlink \
 && useradd --system --uid 10001 --gid interlink --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin interlink

COPY --from=build /app/target/release/interlink-switch   /usr/local/bin/interlink-switch
COPY --from=build /app/target/release/interlinkctl        /usr/local/bin/interlinkctl
COPY --from=build /app/target/release/interlink-loadtest  /usr/local/bin/interlink-loadtest

# Sample routing tables -> /etc/interlink/routes/, configuration (switch.toml) -> /etc/interlink/.
# Both folders must exist in the build context.
COPY routes/ /etc/interlink/routes/
COPY config/ /etc/interlink/

USER interlink:interlink
WORKDIR /etc/interlink

# Prometheus metrics / health endpoint (set INTERLINK_HTTP__LISTEN=0.0.0.0:9464 in containers).
EXPOSE 9464

# No ENTRYPOINT: compose services and `docker run` pick the binary through the command.
# interlink-switch handles SIGTERM (flushes its open transaction before exiting).
CMD ["interlink-switch", "--config", "/etc/interlink/switch.toml"]
