using System;
using Gateway.Data.Postgres;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Gateway.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "Agents",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Enabled = table.Column<bool>(type: "boolean", nullable: false),
                    ManagedByConfiguration = table.Column<bool>(type: "boolean", nullable: false),
                    TagsJson = table.Column<string>(type: "text", nullable: false),
                    Owner = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Agents", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Approvals",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    AgentId = table.Column<long>(type: "bigint", nullable: false),
                    Agent = table.Column<string>(type: "text", nullable: false),
                    Server = table.Column<string>(type: "text", nullable: false),
                    Tool = table.Column<string>(type: "text", nullable: false),
                    ToolDefinitionSha256 = table.Column<string>(type: "text", nullable: false),
                    ArgumentsJson = table.Column<string>(type: "text", nullable: false),
                    ArgumentsSha256 = table.Column<string>(type: "text", nullable: false),
                    Rule = table.Column<string>(type: "text", nullable: true),
                    Reason = table.Column<string>(type: "text", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    DecidedBy = table.Column<string>(type: "text", nullable: true),
                    DecidedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    DecisionReason = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Approvals", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AuditCheckpoints",
                columns: table => new
                {
                    Sequence = table.Column<long>(type: "bigint", nullable: false),
                    Hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    KeyId = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Signature = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditCheckpoints", x => x.Sequence);
                });

            migrationBuilder.CreateTable(
                name: "AuditEntries",
                columns: table => new
                {
                    Sequence = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Timestamp = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Actor = table.Column<string>(type: "text", nullable: false),
                    Server = table.Column<string>(type: "text", nullable: true),
                    Tool = table.Column<string>(type: "text", nullable: true),
                    Decision = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Rule = table.Column<string>(type: "text", nullable: true),
                    Outcome = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    DurationMs = table.Column<double>(type: "double precision", nullable: false),
                    Error = table.Column<string>(type: "text", nullable: true),
                    ArgumentsSha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    ArgumentsRedacted = table.Column<string>(type: "text", nullable: true),
                    ResultSha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    CallId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    PreviousHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    Hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditEntries", x => x.Sequence);
                });

            migrationBuilder.CreateTable(
                name: "ConsoleUsers",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    UserName = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: false),
                    DisplayName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Source = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    AssignedRoles = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    ProviderRoles = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    PasswordHash = table.Column<string>(type: "text", nullable: true),
                    MustChangePassword = table.Column<bool>(type: "boolean", nullable: false),
                    Enabled = table.Column<bool>(type: "boolean", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LastSignInAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ConsoleUsers", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "PolicyRules",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Json = table.Column<string>(type: "text", nullable: false),
                    ManagedByConfiguration = table.Column<bool>(type: "boolean", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_PolicyRules", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Servers",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Transport = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: false),
                    Command = table.Column<string>(type: "text", nullable: true),
                    ArgsJson = table.Column<string>(type: "text", nullable: false),
                    EnvJson = table.Column<string>(type: "text", nullable: false),
                    WorkingDirectory = table.Column<string>(type: "text", nullable: true),
                    Url = table.Column<string>(type: "text", nullable: true),
                    HeadersJson = table.Column<string>(type: "text", nullable: false),
                    ToolPrefix = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    Enabled = table.Column<bool>(type: "boolean", nullable: false),
                    ManagedByConfiguration = table.Column<bool>(type: "boolean", nullable: false),
                    ConnectTimeoutMs = table.Column<long>(type: "bigint", nullable: false),
                    CallTimeoutMs = table.Column<long>(type: "bigint", nullable: false),
                    CredentialKind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    CredentialCiphertext = table.Column<string>(type: "text", nullable: true),
                    CredentialRotatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Servers", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ToolClassOverrides",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Server = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Tool = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Class = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ToolClassOverrides", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ToolPins",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Server = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Tool = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    DefinitionSha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    PinnedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    PinnedBy = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ToolPins", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AgentGrants",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    AgentId = table.Column<long>(type: "bigint", nullable: false),
                    Position = table.Column<int>(type: "integer", nullable: false),
                    Pattern = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AgentGrants", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AgentGrants_Agents_AgentId",
                        column: x => x.AgentId,
                        principalTable: "Agents",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AgentKeys",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    AgentId = table.Column<long>(type: "bigint", nullable: false),
                    KeyHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Hint = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Source = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    RevokedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AgentKeys", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AgentKeys_Agents_AgentId",
                        column: x => x.AgentId,
                        principalTable: "Agents",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_AgentGrants_AgentId_Position",
                table: "AgentGrants",
                columns: new[] { "AgentId", "Position" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AgentKeys_AgentId",
                table: "AgentKeys",
                column: "AgentId");

            migrationBuilder.CreateIndex(
                name: "IX_AgentKeys_KeyHash",
                table: "AgentKeys",
                column: "KeyHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Agents_Name",
                table: "Agents",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Approvals_AgentId_Server_Tool_ArgumentsSha256_Status",
                table: "Approvals",
                columns: new[] { "AgentId", "Server", "Tool", "ArgumentsSha256", "Status" });

            migrationBuilder.CreateIndex(
                name: "IX_Approvals_Status_CreatedAt",
                table: "Approvals",
                columns: new[] { "Status", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_Actor_Sequence",
                table: "AuditEntries",
                columns: new[] { "Actor", "Sequence" });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_CallId",
                table: "AuditEntries",
                column: "CallId");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_Decision_Sequence",
                table: "AuditEntries",
                columns: new[] { "Decision", "Sequence" },
                filter: "\"Decision\" <> 'allow'");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_Outcome_Sequence",
                table: "AuditEntries",
                columns: new[] { "Outcome", "Sequence" },
                filter: "\"Outcome\" NOT IN ('ok', 'started')");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_Server_Sequence",
                table: "AuditEntries",
                columns: new[] { "Server", "Sequence" });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_Timestamp",
                table: "AuditEntries",
                column: "Timestamp");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_Tool_Sequence",
                table: "AuditEntries",
                columns: new[] { "Tool", "Sequence" });

            migrationBuilder.CreateIndex(
                name: "IX_ConsoleUsers_UserName",
                table: "ConsoleUsers",
                column: "UserName",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_PolicyRules_Name",
                table: "PolicyRules",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Servers_Name",
                table: "Servers",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ToolClassOverrides_Server_Tool",
                table: "ToolClassOverrides",
                columns: new[] { "Server", "Tool" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ToolPins_Server_Tool",
                table: "ToolPins",
                columns: new[] { "Server", "Tool" },
                unique: true);

            PostgresSchema.CreateAppendOnlyTriggers(migrationBuilder, "AuditEntries", "AuditCheckpoints");
            PostgresSchema.CreateChangeNotifications(migrationBuilder, "Agents", "AgentKeys", "AgentGrants", "PolicyRules", "ToolClassOverrides", "ToolPins", "Servers", "ConsoleUsers", "Approvals", "AuditCheckpoints");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            PostgresSchema.DropChangeNotifications(migrationBuilder, "Agents", "AgentKeys", "AgentGrants", "PolicyRules", "ToolClassOverrides", "ToolPins", "Servers", "ConsoleUsers", "Approvals", "AuditCheckpoints");
            PostgresSchema.DropAppendOnlyTriggers(migrationBuilder, "AuditEntries", "AuditCheckpoints");
            migrationBuilder.DropTable(
                name: "AgentGrants");

            migrationBuilder.DropTable(
                name: "AgentKeys");

            migrationBuilder.DropTable(
                name: "Approvals");

            migrationBuilder.DropTable(
                name: "AuditCheckpoints");

            migrationBuilder.DropTable(
                name: "AuditEntries");

            migrationBuilder.DropTable(
                name: "ConsoleUsers");

            migrationBuilder.DropTable(
                name: "PolicyRules");

            migrationBuilder.DropTable(
                name: "Servers");

            migrationBuilder.DropTable(
                name: "ToolClassOverrides");

            migrationBuilder.DropTable(
                name: "ToolPins");

            migrationBuilder.DropTable(
                name: "Agents");
        }
    }
}
