import type { CodegenConfig } from "@graphql-codegen/cli";

// The README's setup. `typescript-operations` alone: since its 6.x it emits the enums and inputs the operations
// use, so adding the `typescript` plugin declares each enum twice (tsc: TS2567).
const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["operations/*.graphql"],
  generates: {
    "generated/graphql.ts": {
      plugins: ["typescript-operations"],
      config: {
        strictScalars: true, // a new custom scalar fails the build instead of becoming `any`
        scalars: {
          Decimal: "string", // money and scores arrive as strings ("250.00"): no float rounding
          DateTime: "string", // ISO 8601 with offset, e.g. "2026-03-02T09:00:00+00:00"
          Date: "string", // ISO 8601 date, e.g. "2026-03-02"
          JSON: "unknown", // any JSON value: narrow it where it is read
          Upload: { input: "File", output: "never" }, // multipart uploads (importAccounts)
        },
      },
    },
  },
};
export default config;
