// Compiles only if the generated types say what the README promises: scalars mapped, enums as string unions.
import type {
  AccountDetailQuery, AccountStatus, ConverseMutation, ImportFileMutationVariables, MoneyQuery,
} from "../generated/graphql";

declare const money: MoneyQuery;
declare const converse: ConverseMutation;
declare const detail: AccountDetailQuery;

const total: string | undefined = money.project?.campaign?.costs.totals[0]?.amount;
const expense: string | undefined = converse.addExpense.expense?.amount;
const status: AccountStatus = "CUSTOMER";
const node = detail.node;
const created: string | null = node && "createdAt" in node ? node.createdAt : null;
const fields: unknown = node && "customFields" in node ? node.customFields : null;
const upload: ImportFileMutationVariables = { project: "UHJvamVjdDox", file: new File(["name\n"], "a.csv") };

export const used = [total, expense, status, created, fields, upload];
