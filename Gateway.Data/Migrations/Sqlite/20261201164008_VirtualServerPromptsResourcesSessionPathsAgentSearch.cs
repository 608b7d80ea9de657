using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gateway.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class VirtualServerPromptsResourcesSessionPathsAgentSearch : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Prompts",
                table: "VirtualServers",
                type: "TEXT",
                nullable: false,
                defaultValue: "[]");

            migrationBuilder.AddColumn<string>(
                name: "Resources",
                table: "VirtualServers",
                type: "TEXT",
                nullable: false,
                defaultValue: "[]");

            migrationBuilder.AddColumn<string>(
                name: "VirtualServer",
                table: "McpSessions",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "ToolSearch",
                table: "Agents",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Prompts",
                table: "VirtualServers");

            migrationBuilder.DropColumn(
                name: "Resources",
                table: "VirtualServers");

            migrationBuilder.DropColumn(
                name: "VirtualServer",
                table: "McpSessions");

            migrationBuilder.DropColumn(
                name: "ToolSearch",
                table: "Agents");
        }
    }
}
