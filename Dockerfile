# syntax=docker/dockerfile:1
# Build: docker build -t hccc-sso .   Run: see docker-compose.yml and README.md.

FROM rust:1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
COPY templates templates
COPY static static
RUN cargo build --release --locked --bin hccc-sso \
 && strip target/release/hccc-sso

FROM debian:bookworm-slim
# libssl3 for OpenSSL (signing), ca-certificates for https calls to clients (JWKS, back-channel logout).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin hccc \
 && mkdir -p /data && chown hccc /data
COPY --from=build /src/target/release/hccc-sso /usr/local/bin/hccc-sso
USER 10001
WORKDIR /data
ENV HCCC_SSO_BIND=0.0.0.0:8080 \
    HCCC_SSO_DATA_DIR=/data \
    HCCC_SSO_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["hccc-sso", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["hccc-sso"]
CMD ["serve"]
