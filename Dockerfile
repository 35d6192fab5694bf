# Builds the strata binary and runs it on its embedded default.
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libclang-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --bin strata

FROM debian:bookworm-slim
COPY --from=build /src/target/release/strata /usr/local/bin/strata
VOLUME /data
EXPOSE 9090
ENTRYPOINT ["strata", "serve", "--listen", "0.0.0.0:9090", "--data-dir", "/data"]
