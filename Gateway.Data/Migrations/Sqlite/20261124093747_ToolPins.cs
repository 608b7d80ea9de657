using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gateway.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ToolPins : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "ToolPins",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Server = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Tool = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    DefinitionSha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    PinnedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    PinnedBy = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ToolPins", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ToolPins_Server_Tool",
                table: "ToolPins",
                columns: new[] { "Server", "Tool" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ToolPins");
        }
    }
}
