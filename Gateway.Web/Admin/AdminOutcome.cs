namespace Gateway.Web.Admin;

/// <summary>How an admin operation ended; the REST API turns it into a status code, the console into a message.</summary>
public enum AdminOutcome
{
    /// <summary>The change was made (or the read answered).</summary>
    Done,

    /// <summary>The thing to change does not exist.</summary>
    NotFound,

    /// <summary>The thing is defined in configuration (provisioning owns it): change it there.</summary>
    Managed,

    /// <summary>The input is invalid; the errors are listed by field and nothing was changed.</summary>
    Invalid,

    /// <summary>The actor's roles do not allow the operation.</summary>
    Forbidden,

    /// <summary>The change collides with the current state (a name taken, a decision already made).</summary>
    Conflict,
}
