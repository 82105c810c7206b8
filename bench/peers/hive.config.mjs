// Hive Gateway configuration as in The Guild's benchmark: identical in-flight requests are
// deduplicated (BENCH_HIVE_DEDUP=0 turns that off).
import { defineConfig } from "@graphql-hive/gateway";

export const gatewayConfig = defineConfig({
  inboundInflightRequestDeduplication: process.env.BENCH_HIVE_DEDUP !== "0",
});
