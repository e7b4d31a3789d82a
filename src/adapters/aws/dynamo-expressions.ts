/** The Table port's typed conditions and updates (ports/table.ts) as DynamoDB expressions. */
import type { QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Condition, QuerySpec, Update } from '../../ports/table.js';
import { INDEX_KEYS } from '../../store/poll-index.js';

/**
 * Builds a ConditionExpression and an UpdateExpression. Attribute names are written as they are: the port
 * asks for plain identifiers that are not DynamoDB reserved words (the store's own names; one that is not
 * an identifier is refused here). Each value gets a placeholder named after its attribute (`rev = :rev`),
 * so a request reads as the expression a person would write.
 */
export class Expression {
  private readonly values: Record<string, unknown> = {};

  name(attr: string): string {
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(attr)) throw new Error(`attribute name ${JSON.stringify(attr)} is not a plain identifier`);
    return attr;
  }

  value(attr: string, v: unknown): string {
    let ref = `:${attr}`;
    for (let n = 1; ref in this.values; n++) ref = `:${attr}${n}`;
    this.values[ref] = v;
    return ref;
  }

  condition(c: Condition): string {
    if ('and' in c) return c.and.map((x) => this.operand(x)).join(' AND ');
    if ('or' in c) return c.or.map((x) => this.operand(x)).join(' OR ');
    const name = this.name(c.attr);
    if ('absent' in c) return `attribute_not_exists(${name})`;
    if ('present' in c) return `attribute_exists(${name})`;
    if ('lacks' in c) return `NOT contains(${name}, ${this.value(c.attr, c.lacks)})`;
    if ('eq' in c) return `${name} = ${this.value(c.attr, c.eq)}`;
    if ('lt' in c) return `${name} < ${this.value(c.attr, c.lt)}`;
    return `${name} <= ${this.value(c.attr, c.le)}`;
  }

  /** SET, REMOVE and ADD clauses; ADD of a number adds to it (from 0 when absent), of a set adds its members. */
  update(u: Update): string {
    const parts: string[] = [];
    const set = Object.entries(u.set ?? {}).filter(([, v]) => v !== undefined);
    if (set.length) parts.push(`SET ${set.map(([k, v]) => `${this.name(k)} = ${this.value(k, v)}`).join(', ')}`);
    if (u.remove?.length) parts.push(`REMOVE ${u.remove.map((k) => this.name(k)).join(', ')}`);
    const add = Object.entries(u.add ?? {});
    if (add.length) parts.push(`ADD ${add.map(([k, v]) => `${this.name(k)} ${this.value(k, v)}`).join(', ')}`);
    return parts.join(' ');
  }

  private operand(c: Condition): string {
    return 'and' in c || 'or' in c ? `(${this.condition(c)})` : this.condition(c);
  }

  /** The value placeholders used, or none (DynamoDB refuses an empty map). */
  refs(): { ExpressionAttributeValues?: Record<string, unknown> } {
    return Object.keys(this.values).length ? { ExpressionAttributeValues: this.values } : {};
  }
}

export function conditionExpression(c: Condition): { text: string; refs: Expression['refs'] } {
  const expr = new Expression();
  const text = expr.condition(c);
  return { text, refs: () => expr.refs() };
}

/** A Query of one partition (of the table, or of a polling index, store/poll-index.ts): its key condition and projection. */
export function queryInput(tableName: string, q: QuerySpec): QueryCommandInput {
  const [pk, sk] = q.index ? (INDEX_KEYS[q.index] ?? ['pk2', 'sk2']) : ['pk', 'sk'];
  const condition =
    q.prefix !== undefined ? `${pk} = :p AND begins_with(${sk}, :s)` : q.upTo !== undefined ? `${pk} = :p AND ${sk} <= :u` : `${pk} = :p`;
  const values: Record<string, unknown> = { ':p': q.pk };
  if (q.prefix !== undefined) values[':s'] = q.prefix;
  else if (q.upTo !== undefined) values[':u'] = q.upTo;
  const input: QueryCommandInput = {
    TableName: tableName,
    IndexName: q.index,
    KeyConditionExpression: condition,
    ExpressionAttributeValues: values,
    // Global secondary indexes are eventually consistent only.
    ConsistentRead: q.index ? undefined : true,
  };
  if (q.projection) {
    input.ProjectionExpression = q.projection.map((_, i) => `#p${i}`).join(',');
    input.ExpressionAttributeNames = Object.fromEntries(q.projection.map((n, i) => [`#p${i}`, n]));
  }
  return input;
}
