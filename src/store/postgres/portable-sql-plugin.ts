import {
  ColumnDefinitionNode,
  DataTypeNode,
  GeneratedNode,
  OnConflictNode,
  OperationNodeTransformer,
  type ColumnDataType,
  type InsertQueryNode,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryId,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
} from 'kysely';

/**
 * SQLite column types that PostgreSQL lacks or reads differently, and what they become there.
 * SQLite's REAL is 8 bytes (PostgreSQL's `real` is 4); SQLite has no booleans, so code written for
 * it stores 0/1 integers, which a PostgreSQL boolean column would refuse; BLOB is bytea.
 */
const POSTGRES_TYPE: Partial<Record<ColumnDataType, ColumnDataType>> = {
  real: 'double precision',
  boolean: 'integer',
  blob: 'bytea',
};

/** Rewrites table definitions written for SQLite into their PostgreSQL equivalent. */
class PortableSchemaTransformer extends OperationNodeTransformer {
  protected override transformColumnDefinition(node: ColumnDefinitionNode, queryId?: QueryId): ColumnDefinitionNode {
    let column = super.transformColumnDefinition(node, queryId);
    // PostgreSQL has no AUTOINCREMENT: a bigint identity column numbers rows the same way and
    // still accepts explicit ids (copying an installation from SQLite keeps them).
    if (column.autoIncrement) {
      column = ColumnDefinitionNode.cloneWith(column, {
        autoIncrement: false,
        generated: GeneratedNode.create({ identity: true, byDefault: true }),
      });
      column = { ...column, dataType: DataTypeNode.create('bigint') };
    }
    return column;
  }

  protected override transformDataType(node: DataTypeNode): DataTypeNode {
    const replacement = POSTGRES_TYPE[node.dataType];
    return replacement ? DataTypeNode.create(replacement) : node;
  }
}

/**
 * Lets store code and migrations written against SQLite run unchanged on PostgreSQL:
 * `autoIncrement()` columns, SQLite-only column types, and `insert or ignore` (orIgnore()) become
 * their PostgreSQL forms. Everything else passes through untouched, so the hot-path queries pay one
 * `kind` comparison. Installed on PostgreSQL connections only.
 */
export class PortableSqlPlugin implements KyselyPlugin {
  private readonly schema = new PortableSchemaTransformer();

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const node = args.node;
    if (node.kind === 'CreateTableNode' || node.kind === 'AlterTableNode') {
      return this.schema.transformNode(node, args.queryId);
    }
    if (node.kind === 'InsertQueryNode' && node.orAction?.action === 'ignore' && !node.onConflict) {
      const insert: InsertQueryNode = {
        ...node,
        orAction: undefined,
        onConflict: OnConflictNode.cloneWith(OnConflictNode.create(), { doNothing: true }),
      };
      return insert;
    }
    return node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}
