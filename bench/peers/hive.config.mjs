// Hive Gateway configuration. The Guild's benchmark turns on inbound in-flight request
// deduplication, which answers identical concurrent requests with one execution; here it is off
// by default so every gateway executes every request (BENCH_HIVE_DEDUP=1 turns it on).
import { defineConfig } from "@graphql-hive/gateway";

export const gatewayConfig = defineConfig({
  inboundInflightRequestDeduplication: process.env.BENCH_HIVE_DEDUP === "1",
});
