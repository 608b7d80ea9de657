using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gateway.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ToolRejections : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "ToolRejections",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Server = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Tool = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    DefinitionSha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    RejectedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    RejectedBy = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ToolRejections", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ToolRejections_Server_Tool",
                table: "ToolRejections",
                columns: new[] { "Server", "Tool" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ToolRejections");
        }
    }
}
