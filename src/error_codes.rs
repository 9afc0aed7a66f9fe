//! What an error code means, where Microsoft documents it, so that a failing
//! setting's `0x87D1FDE8` can be shown as "Remediation failed". Codes are
//! looked up in their stored spelling (`0x` and 8 upper-case hex digits,
//! `ingest::error_code`); a code Microsoft does not document (e.g.
//! `0x87D1FBFB`, the `0x8600xxxx` codes) has no meaning here rather than a
//! guessed one. Where each group comes from: docs/error-codes.md.

/// The Microsoft page, and its section, that a meaning is taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// Intune's common error codes, "Company resource access (common errors)".
    CompanyResourceAccess,
    /// Intune's common error codes, "Errors returned by iOS/iPadOS devices",
    /// "Service errors" (Apple MDM error numbers).
    IosServiceError,
    /// Intune's common error codes, "OMA response codes" (SyncML and DCMO
    /// status codes).
    OmaResponse,
    /// Intune's app installation error reference.
    AppInstall,
    /// Windows MDM registration error values (`MDMRegistration.h`).
    MdmRegistration,
}

impl Source {
    /// The documentation page: its repository and path.
    pub fn page(self) -> &'static str {
        match self {
            Source::CompanyResourceAccess | Source::IosServiceError | Source::OmaResponse => {
                "MicrosoftDocs/SupportArticles-docs: support/mem/intune/general/troubleshoot-company-resource-access-problems.md"
            }
            Source::AppInstall => {
                "MicrosoftDocs/SupportArticles-docs: support/mem/intune/app-management/app-install-error-codes.md"
            }
            Source::MdmRegistration => {
                "MicrosoftDocs/win32: desktop-src/MDMReg/mdm-registration-constants.md"
            }
        }
    }

    /// The page's title and the section the code is listed in.
    pub fn section(self) -> &'static str {
        match self {
            Source::CompanyResourceAccess => {
                "Common error codes and descriptions in Microsoft Intune: Company resource access (common errors)"
            }
            Source::IosServiceError => {
                "Common error codes and descriptions in Microsoft Intune: Errors returned by iOS/iPadOS devices, Service errors"
            }
            Source::OmaResponse => {
                "Common error codes and descriptions in Microsoft Intune: OMA response codes"
            }
            Source::AppInstall => "Intune app installation error reference",
            Source::MdmRegistration => "MDM Registration Error Values (MDMRegistration.h)",
        }
    }
}

/// The meaning of an error code in its stored spelling (`0x87D1FDE8`), or
/// `None` when Microsoft does not document it (or it is not in that
/// spelling: the lake holds no other for a 32-bit code).
pub fn meaning(code: &str) -> Option<&'static str> {
    entry(code).map(|(_, meaning, _)| *meaning)
}

/// Where the meaning of a code comes from, for the codes [`meaning`] knows.
pub fn source(code: &str) -> Option<Source> {
    entry(code).map(|(_, _, source)| *source)
}

fn entry(code: &str) -> Option<&'static (&'static str, &'static str, Source)> {
    CODES
        .binary_search_by(|(key, _, _)| (*key).cmp(code))
        .ok()
        .map(|i| &CODES[i])
}

// Short names for the table's last column.
use Source::{AppInstall, CompanyResourceAccess, IosServiceError, MdmRegistration, OmaResponse};

/// Sorted by code (byte order, which for `0x` and 8 upper-case hex digits is
/// numeric order), one row per code. Meanings are Microsoft's text, cut
/// short where it runs past a line and without a closing period. Two iOS
/// service errors (`0x87D19859`, `0x87D1985A`) are listed by Microsoft with
/// no text and are left out.
#[rustfmt::skip]
static CODES: &[(&str, &str, Source)] = &[
    ("0x00180011", "MENROLL_S_ENROLLMENT_SUSPENDED: Enrollment was suspended. No longer supported", MdmRegistration),
    ("0x8000FFFF", "An unexpected error occurred during installation. Check the installation logs for additional information", AppInstall),
    ("0x8007065D", "E_DATATYPE_MISMATCH: The datatype does not match the expected datatype", MdmRegistration),
    ("0x80073CF0", "The package could not be opened (it is unsigned, or the publisher name does not match the signing certificate subject)", AppInstall),
    ("0x80073CF3", "The package failed update, dependency, or conflict validation", AppInstall),
    ("0x80073CFB", "The provided package is already installed, and reinstallation of the package is blocked", AppInstall),
    ("0x80073CFF", "(client error) To install this app, you must have a sideloading-enabled system", AppInstall),
    ("0x80180001", "MENROLL_E_DEVICE_MESSAGE_FORMAT_ERROR: Invalid Schema, Message Format Error from server", MdmRegistration),
    ("0x80180002", "MENROLL_E_DEVICE_AUTHENTICATION_ERROR: Server failed to authenticate the user", MdmRegistration),
    ("0x80180003", "MENROLL_E_DEVICE_AUTHORIZATION_ERROR: The user is not authorized to enroll", MdmRegistration),
    ("0x80180004", "MENROLL_E_DEVICE_CERTIFCATEREQUEST_ERROR: The user has no permission for the certificate template or the certificate authority is unreachable", MdmRegistration),
    ("0x80180005", "MENROLL_E_DEVICE_CONFIGMGRSERVER_ERROR: There was a failure at the management server, such as a database access error", MdmRegistration),
    ("0x80180006", "MENROLL_E_DEVICE_INTERNALSERVICE_ERROR: There was an unhandled exception on the server", MdmRegistration),
    ("0x80180007", "MENROLL_E_DEVICE_INVALIDSECURITY_ERROR: There was an unhandled exception on the server", MdmRegistration),
    ("0x80180008", "MENROLL_E_DEVICE_UNKNOWN_ERROR: Unknown server error", MdmRegistration),
    ("0x80180009", "MENROLL_E_ENROLLMENT_IN_PROGRESS: Another enrollment operation is currently underway", MdmRegistration),
    ("0x8018000A", "MENROLL_E_DEVICE_ALREADY_ENROLLED: The device is already enrolled", MdmRegistration),
    ("0x8018000B", "MENROLL_E_DEVICE_NOT_ENROLLED: The device is not enrolled", MdmRegistration),
    ("0x8018000D", "MENROLL_E_DISCOVERY_SEC_CERT_DATE_INVALID: During discovery the sec cert date was invalid", MdmRegistration),
    ("0x8018000E", "MENROLL_E_PASSWORD_NEEDED: A password is needed, but was not supplied", MdmRegistration),
    ("0x8018000F", "MENROLL_E_WAB_ERROR: An error occurred during WAB enrollment", MdmRegistration),
    ("0x80180010", "MENROLL_E_CONNECTIVITY: A network error occurred, such as DNS or a network timeout", MdmRegistration),
    ("0x80180012", "MENROLL_E_INVALIDSSLCERT: The SSL cert was not valid", MdmRegistration),
    ("0x80180013", "MENROLL_E_DEVICECAPREACHED: The user has already enrolled too many devices. Delete or unenroll old ones to fix this error", MdmRegistration),
    ("0x80180014", "MENROLL_E_DEVICENOTSUPPORTED: A specific platform (e.g. Windows) or version is not supported; the general fix is to upgrade the device", MdmRegistration),
    ("0x80180015", "MENROLL_E_NOTSUPPORTED: Mobile device management is generally not supported for this device", MdmRegistration),
    ("0x80180016", "MREGISTER_E_NOTELIGIBLETORENEW: The device is attempting to renew, but the server rejected the request. Check time on device", MdmRegistration),
    ("0x80180017", "MENROLL_E_INMAINTENANCE: Account is in maintenance; retry later", MdmRegistration),
    ("0x80180018", "MENROLL_E_USERLICENSE: The license of user is in bad state blocking enrollment; the user will need to call the admin", MdmRegistration),
    ("0x80180019", "MENROLL_E_ENROLLMENTDATAINVALID: The server rejected the Enrollment Data; the server may not be configured correctly", MdmRegistration),
    ("0x8018001A", "MENROLL_E_INSECUREREDIRECT: The server requested HTTP rather than HTTPS but it was not accepted", MdmRegistration),
    ("0x8018001B", "MENROLL_E_PLATFORM_WRONG_STATE: An invalid operation was attempted, such trying to enroll the same device twice or unenroll an unknown device", MdmRegistration),
    ("0x8018001C", "MENROLL_E_PLATFORM_LICENSE_ERROR: The version of Windows installed on the client does not support this enrollment type", MdmRegistration),
    ("0x8018001D", "MENROLL_E_PLATFORM_UNKNOWN_ERROR: An unknown error occurred on the client", MdmRegistration),
    ("0x8018001E", "MENROLL_E_PROV_CSP_CERTSTORE: Provisioning failed in the certificate store CSP", MdmRegistration),
    ("0x8018001F", "MENROLL_E_PROV_CSP_W7: Provisioning failed in a W7/DMAcc CPP", MdmRegistration),
    ("0x80180020", "MENROLL_E_PROV_CSP_DMCLIENT: Provisioning failed in a DM client CSP", MdmRegistration),
    ("0x80180021", "MENROLL_E_PROV_CSP_PFW: Provisioning failed in a Passport for Work CSP", MdmRegistration),
    ("0x80180022", "MENROLL_E_PROV_CSP_MISC: Provisioning failed in a CSP not listed above", MdmRegistration),
    ("0x80180023", "MENROLL_E_PROV_UNKNOWN: Provisioning failed, but a specific CSP is not indicated", MdmRegistration),
    ("0x80180024", "MENROLL_E_PROV_SSLCERTNOTFOUND: When attempting to bind the public cert/private key, the public cert was not found", MdmRegistration),
    ("0x80180025", "MENROLL_E_PROV_CSP_APPMGMT: Provisioning failed in the EnterpriseAppManagement CSP", MdmRegistration),
    ("0x80180026", "MENROLL_E_DEVICE_MANAGEMENT_BLOCKED: Mobile Device Management (MDM) was blocked, possibly by Group Policy or the SetManagedExternally function", MdmRegistration),
    ("0x80180027", "MENROLL_E_CERTPOLICY_PRIVATEKEYCREATION_FAILED: Failed to create the private key", MdmRegistration),
    ("0x80180028", "MENROLL_E_CERTAUTH_FAILED_TO_FIND_CERT: Certificate Authentication was requested, but failed find a certificate to use", MdmRegistration),
    ("0x80180029", "MENROLL_E_EMPTY_MESSAGE: The server responded with HTTP 200, but the message was empty", MdmRegistration),
    ("0x80180030", "MENROLL_E_USER_CANCELED: The user canceled the operation", MdmRegistration),
    ("0x80180031", "MENROLL_E_MDM_NOT_CONFIGURED: Mobile Device Management (MDM) is not configured", MdmRegistration),
    ("0x80190001", "MREGISTER_E_DEVICE_MESSAGE_FORMAT_ERROR: Invalid Schema, Message Format Error from server", MdmRegistration),
    ("0x80190002", "MREGISTER_E_DEVICE_AUTHENTICATION_ERROR: Server failed to authenticate the user", MdmRegistration),
    ("0x80190003", "MREGISTER_E_DEVICE_AUTHORIZATION_ERROR: The user is not authorized to enroll", MdmRegistration),
    ("0x80190004", "MREGISTER_E_DEVICE_CERTIFCATEREQUEST_ERROR: The user has no permission for the certificate template or the certificate authority is unreachable", MdmRegistration),
    ("0x80190005", "MREGISTER_E_DEVICE_CONFIGMGRSERVER_ERROR: There was a failure at the management server, such as a database access error", MdmRegistration),
    ("0x80190006", "MREGISTER_E_DEVICE_INTERNALSERVICE_ERROR: There was an unhandled exception on the server", MdmRegistration),
    ("0x80190007", "MREGISTER_E_DEVICE_INVALIDSECURITY_ERROR: There was an unhandled exception on the server", MdmRegistration),
    ("0x80190008", "MREGISTER_E_DEVICE_UNKNOWN_ERROR: Unknown server error", MdmRegistration),
    ("0x80190009", "MREGISTER_E_REGISTRATION_IN_PROGRESS: Another enrollment operation is currently underway", MdmRegistration),
    ("0x8019000A", "MREGISTER_E_DEVICE_ALREADY_REGISTERED: No longer used (Windows 8.1: the device is already enrolled)", MdmRegistration),
    ("0x8019000B", "MREGISTER_E_DEVICE_NOT_REGISTERED: No longer used (Windows 8.1: the device is not enrolled)", MdmRegistration),
    ("0x8019000C", "MREGISTER_E_DISCOVERY_REDIRECTED: No longer used (Windows 8.1: redirection is needed)", MdmRegistration),
    ("0x8019000D", "MREGISTER_E_DEVICE_NOT_AD_REGISTERED_ERROR: No longer used (Windows 8.1: the device is not registered with Active Directory)", MdmRegistration),
    ("0x8019000E", "MREGISTER_E_DISCOVERY_FAILED: No longer used (Windows 8.1: discovery failed; redirection is needed)", MdmRegistration),
    ("0x80CF201C", "(client error) To install this app, you must have a sideloading-enabled system", AppInstall),
    ("0x87D10065", "The specified SyncML command is being carried out, but has not yet completed", OmaResponse),
    ("0x87D100C8", "The SyncML command completed successfully", OmaResponse),
    ("0x87D100C9", "The requested item was added", OmaResponse),
    ("0x87D100CA", "Accepted for processing", OmaResponse),
    ("0x87D100CB", "Non-authoritative response", OmaResponse),
    ("0x87D100CC", "The request was successfully completed but no data is being returned", OmaResponse),
    ("0x87D100CD", "The source SHOULD update their content", OmaResponse),
    ("0x87D100CE", "The response indicates that only part of the command was completed", OmaResponse),
    ("0x87D100CF", "Conflict resolved with merge", OmaResponse),
    ("0x87D100D0", "Conflict resolved with client's command \"winning\"", OmaResponse),
    ("0x87D100D1", "Conflict resolved with duplicate", OmaResponse),
    ("0x87D100D2", "Syncml(210): Delete without archive", OmaResponse),
    ("0x87D100D3", "Syncml(211): Item not deleted. The requested item was not found. It could have been previously deleted", OmaResponse),
    ("0x87D100D4", "Syncml(212): Authentication accepted. No further authentication is needed for the remainder of the synchronization session", OmaResponse),
    ("0x87D100D5", "Syncml(213): Chunked item accepted and buffered", OmaResponse),
    ("0x87D100D6", "Syncml(214): Operation canceled. The SyncML command completed successfully, but no more commands will be processed within the session", OmaResponse),
    ("0x87D100D7", "Syncml(215): A command was not executed, as a result of user interaction and user chose not to accept the choice", OmaResponse),
    ("0x87D100D8", "Syncml(216): A command was inside Atomic element and Atomic failed. This command was rolled back successfully", OmaResponse),
    ("0x87D1012C", "Syncml(300): The requested target is one of a number of multiple alternatives requested target", OmaResponse),
    ("0x87D1012D", "Syncml(301): The requested target has a new URI", OmaResponse),
    ("0x87D1012E", "Syncml(302): The requested target has temporarily moved to a different URI", OmaResponse),
    ("0x87D1012F", "Syncml(303): The requested target can be found at another URI", OmaResponse),
    ("0x87D10130", "Syncml(304): The requested SyncML command was not executed on the target", OmaResponse),
    ("0x87D10131", "Syncml(305): The requested target must be accessed through the specified proxy URI", OmaResponse),
    ("0x87D10190", "Syncml(400): The requested command could not be performed because of malformed syntax in the command", OmaResponse),
    ("0x87D10191", "Syncml(401): The requested command failed because the requestor must provide proper authentication", OmaResponse),
    ("0x87D10192", "Syncml(402): The requested command failed because proper payment is needed", OmaResponse),
    ("0x87D10193", "Syncml(403): The requested command failed, but the recipient understood the requested command", OmaResponse),
    ("0x87D10194", "Syncml(404): The requested target was not found", OmaResponse),
    ("0x87D10195", "Syncml(405): The requested command is not allowed on the target", OmaResponse),
    ("0x87D10196", "Syncml(406): The requested command failed because an optional feature in the request was not supported", OmaResponse),
    ("0x87D10197", "Syncml(407): The requested command failed because the originator must provide proper authentication", OmaResponse),
    ("0x87D10198", "Syncml(408): An expected message was not received within the required period of time", OmaResponse),
    ("0x87D10199", "Syncml(409): The requested failed because of an update conflict between the client and server versions of the data", OmaResponse),
    ("0x87D1019A", "Syncml(410): The requested target is no longer on the recipient and no forwarding URI is known", OmaResponse),
    ("0x87D1019B", "Syncml(411): The requested command must be accompanied by byte size or length information in the Meta element type", OmaResponse),
    ("0x87D1019C", "Syncml(412): The requested command failed on the recipient because it was incomplete or incorrectly formed", OmaResponse),
    ("0x87D1019D", "Syncml(413): The recipient refuses the command because the requested item is larger than it is able or willing to process", OmaResponse),
    ("0x87D1019E", "Syncml(414): The requested command failed because the target URI is too long for what the recipient is able or willing to process", OmaResponse),
    ("0x87D1019F", "Syncml(415): Unsupported media type or format", OmaResponse),
    ("0x87D101A0", "Syncml(416): The request failed because the specified byte size in the request was too big", OmaResponse),
    ("0x87D101A1", "Syncml(417): The request failed at this time and the originator should retry the request later", OmaResponse),
    ("0x87D101A2", "Syncml(418): The requested Put or Add command failed because the target already exists", OmaResponse),
    ("0x87D101A3", "Syncml(419): The client request created a conflict which was resolved by the server command winning", OmaResponse),
    ("0x87D101A4", "Syncml(420): The recipient has no more storage space for the remaining synchronization data", OmaResponse),
    ("0x87D101A5", "Syncml(421): The requested command failed on the server because the specified search grammar was not known", OmaResponse),
    ("0x87D101A6", "Syncml(422): The requested command failed on the server because the CGI scripting in the LocURI was incorrectly formed", OmaResponse),
    ("0x87D101A7", "Syncml(423): The requested command failed because the \"Soft Deleted\" item was previously \"Hard Deleted\" on the server", OmaResponse),
    ("0x87D101A8", "Syncml(424): The chunked object was received, but the size of the received object did not match the size declared within the first chunk", OmaResponse),
    ("0x87D101A9", "Syncml(425): The requested command failed because the sender does not have adequate access control permissions (ACL) on the recipient", OmaResponse),
    ("0x87D101AA", "Syncml(426): Partial item not accepted", OmaResponse),
    ("0x87D101AB", "Syncml(427): Parent cannot be deleted since it contains children", OmaResponse),
    ("0x87D101AC", "Syncml(428): Move failed", OmaResponse),
    ("0x87D101F4", "Syncml(500): The recipient encountered an unexpected condition which prevented it from fulfilling the request", OmaResponse),
    ("0x87D101F5", "Syncml(501): The recipient does not support the command required to fulfill the request", OmaResponse),
    ("0x87D101F6", "Syncml(502): The recipient, while acting as a gateway or proxy, received an invalid response from the upstream recipient", OmaResponse),
    ("0x87D101F7", "Syncml(503): The recipient is currently unable to handle the request due to a temporary overloading or maintenance of the recipient", OmaResponse),
    ("0x87D101F8", "Syncml(504): The recipient, while acting as a gateway or proxy, did not receive a timely response from the upstream recipient", OmaResponse),
    ("0x87D101F9", "Syncml(505): The recipient does not support or refuses to support the specified version of SyncML DTD used in the request SyncML Message", OmaResponse),
    ("0x87D101FA", "Syncml(506): An application error occurred while processing the request", OmaResponse),
    ("0x87D101FB", "Syncml(507): The error caused all SyncML commands within an Atomic element type to fail", OmaResponse),
    ("0x87D101FC", "Syncml(508): An error occurred that necessitates a refresh of the current synchronization state of the client with the server", OmaResponse),
    ("0x87D101FD", "Syncml(509): Reserved for future use", OmaResponse),
    ("0x87D101FE", "Syncml(510): An error occurred while processing the request. The error is related to a failure in the recipient data store", OmaResponse),
    ("0x87D101FF", "Syncml(511): A severe error occurred in the server while processing the request", OmaResponse),
    ("0x87D10200", "Syncml(512): An application error occurred during the synchronization session", OmaResponse),
    ("0x87D10201", "Syncml(513): The recipient does not support or refuses to support the SyncML Synchronization Protocol version of the request", OmaResponse),
    ("0x87D10202", "Syncml(514): The SyncML command was not completed successfully, since the operation was already canceled before processing the command", OmaResponse),
    ("0x87D10204", "Syncml(516): Command was inside Atomic element and Atomic failed. This command was not rolled back successfully", OmaResponse),
    ("0x87D10205", "Syncml(517): The response to an atomic command was too large to fit in a single message", OmaResponse),
    ("0x87D103E8", "Unknown error", AppInstall),
    ("0x87D1041C", "The application was not detected after installation completed successfully", AppInstall),
    ("0x87D107D0", "DCMO(1200): Operation is performed successfully", OmaResponse),
    ("0x87D107D1", "DCMO(1201): Enable operation is performed successfully and the Device Capability is currently attached", OmaResponse),
    ("0x87D107D2", "DCMO(1202): Enable operation is performed successfully but the Device Capability is currently detached", OmaResponse),
    ("0x87D107D3", "DCMO(1203): Device Capability is disabled and User is not allowed to re-enable it", OmaResponse),
    ("0x87D107D4", "DCMO(1204): Device Capability is disabled and User is allowed to re-enable it", OmaResponse),
    ("0x87D10834", "DCMO(1400): Client error", OmaResponse),
    ("0x87D10835", "DCMO(1401): User chose not to accept the operation when prompted", OmaResponse),
    ("0x87D10836", "DCMO(1402): The Operation failed", OmaResponse),
    ("0x87D10837", "(1403): Certificate not found", OmaResponse),
    ("0x87D10838", "(1404): Certificate access denied", OmaResponse),
    ("0x87D11388", "iOS device is currently busy", CompanyResourceAccess),
    ("0x87D11389", "iOS device has returned an unexpected Idle status", CompanyResourceAccess),
    ("0x87D1138A", "iOS device has rejected the command due to incorrect format", CompanyResourceAccess),
    ("0x87D1138B", "iOS device has returned an error", CompanyResourceAccess),
    ("0x87D1279D", "Unknown error. (iOS store apps)", AppInstall),
    ("0x87D12906", "Apple MDM Agent error: App installation command failed with no error reason specified. Retry app installation", AppInstall),
    ("0x87D12AF8", "iOS/iPadOS 1000: Malformed profile", IosServiceError),
    ("0x87D12AF9", "iOS/iPadOS 1001: Unsupported profile version", IosServiceError),
    ("0x87D12AFA", "iOS/iPadOS 1002: Missing required field", IosServiceError),
    ("0x87D12AFB", "iOS/iPadOS 1003: Bad data type in field", IosServiceError),
    ("0x87D12AFC", "iOS/iPadOS 1004: Bad signature", IosServiceError),
    ("0x87D12AFD", "iOS/iPadOS 1005: Empty profile", IosServiceError),
    ("0x87D12AFE", "iOS/iPadOS 1006: Cannot decrypt", IosServiceError),
    ("0x87D12AFF", "iOS/iPadOS 1007: Non-unique UUIDs", IosServiceError),
    ("0x87D12B00", "iOS/iPadOS 1008: Non-unique payload identifiers", IosServiceError),
    ("0x87D12B01", "iOS/iPadOS 1009: Profile installation failure", IosServiceError),
    ("0x87D12B02", "iOS/iPadOS 1010: Unsupported field value", IosServiceError),
    ("0x87D12EE0", "iOS/iPadOS 2000: Malformed Payload", IosServiceError),
    ("0x87D12EE1", "iOS/iPadOS 2001: Unsupported payload version", IosServiceError),
    ("0x87D12EE2", "iOS/iPadOS 2002: Missing required field", IosServiceError),
    ("0x87D12EE3", "iOS/iPadOS 2003: Bad data type in field", IosServiceError),
    ("0x87D12EE4", "iOS/iPadOS 2004: Unsupported field value", IosServiceError),
    ("0x87D1313C", "Network connection on the client was lost or interrupted. Later attempts should succeed in a better network environment", AppInstall),
    ("0x87D1313D", "Could not retrieve license for the app with iTunes Store ID", AppInstall),
    ("0x87D132C8", "iOS/iPadOS 3000: Inconsistent restriction sense (internal error)", IosServiceError),
    ("0x87D132C9", "iOS/iPadOS 3001: Inconsistent value comparison sense (internal error)", IosServiceError),
    ("0x87D136B0", "iOS/iPadOS 4000: Cannot parse profile", IosServiceError),
    ("0x87D136B1", "iOS/iPadOS 4001: Installation failure", IosServiceError),
    ("0x87D136B2", "iOS/iPadOS 4002: Duplicate UUID", IosServiceError),
    ("0x87D136B3", "iOS/iPadOS 4003: Profile not queued for installation", IosServiceError),
    ("0x87D136B4", "iOS/iPadOS 4004: User canceled installation", IosServiceError),
    ("0x87D136B5", "iOS/iPadOS 4005: Passcode does not comply", IosServiceError),
    ("0x87D136B6", "iOS/iPadOS 4006: Profile removal date is in the past", IosServiceError),
    ("0x87D136B7", "iOS/iPadOS 4007: Unrecognized file format", IosServiceError),
    ("0x87D136B8", "iOS/iPadOS 4008: Mismatched certificates", IosServiceError),
    ("0x87D136B9", "iOS/iPadOS 4009: Device locked", IosServiceError),
    ("0x87D136BA", "iOS/iPadOS 4010: Updated profile does not have the same identifier", IosServiceError),
    ("0x87D136BB", "iOS/iPadOS 4011: Final profile is not a configuration profile", IosServiceError),
    ("0x87D136BC", "iOS/iPadOS 4012: Profile is not updatable", IosServiceError),
    ("0x87D136BD", "iOS/iPadOS 4013: Update failed", IosServiceError),
    ("0x87D136BE", "iOS/iPadOS 4014: No device identity available", IosServiceError),
    ("0x87D136BF", "iOS/iPadOS 4015: Replacement profile does not contain an MDM payload", IosServiceError),
    ("0x87D136C0", "iOS/iPadOS 4016: (Internal error)", IosServiceError),
    ("0x87D136C1", "iOS/iPadOS 4017: Multiple global HTTPProxy payloads", IosServiceError),
    ("0x87D136C2", "iOS/iPadOS 4018: Multiple APN or Cellular payloads", IosServiceError),
    ("0x87D136C3", "iOS/iPadOS 4019: Multiple App Lock payloads", IosServiceError),
    ("0x87D13A98", "iOS/iPadOS 5000: Passcode too short", IosServiceError),
    ("0x87D13A99", "iOS/iPadOS 5001: Too few unique characters", IosServiceError),
    ("0x87D13A9A", "iOS/iPadOS 5002: Too few complex characters", IosServiceError),
    ("0x87D13A9B", "iOS/iPadOS 5003: Passcode has repeating characters", IosServiceError),
    ("0x87D13A9C", "iOS/iPadOS 5004: Passcode has ascending descending characters", IosServiceError),
    ("0x87D13A9D", "iOS/iPadOS 5005: Passcode requires number", IosServiceError),
    ("0x87D13A9E", "iOS/iPadOS 5006: Passcode requires alpha characters", IosServiceError),
    ("0x87D13A9F", "iOS/iPadOS 5007: Passcode expired", IosServiceError),
    ("0x87D13AA0", "iOS/iPadOS 5008: Passcode too recent", IosServiceError),
    ("0x87D13AA1", "iOS/iPadOS 5009: (unused)", IosServiceError),
    ("0x87D13AA2", "iOS/iPadOS 5010: Device locked", IosServiceError),
    ("0x87D13AA3", "iOS/iPadOS 5011: Wrong passcode", IosServiceError),
    ("0x87D13AA4", "iOS/iPadOS 5012: (unused)", IosServiceError),
    ("0x87D13AA5", "iOS/iPadOS 5013: Cannot clear passcode", IosServiceError),
    ("0x87D13AA6", "iOS/iPadOS 5014: Cannot set passcode", IosServiceError),
    ("0x87D13AA7", "iOS/iPadOS 5015: Cannot set grace period", IosServiceError),
    ("0x87D13B60", "The app is scheduled for installation, but needs a redemption code to complete the transaction", CompanyResourceAccess),
    ("0x87D13B61", "The user has installed the app before managed app installation could take place", CompanyResourceAccess),
    ("0x87D13B62", "The user rejected the offer to install the app", CompanyResourceAccess),
    ("0x87D13B63", "The user rejected the offer to update the app", CompanyResourceAccess),
    ("0x87D13B64", "The app install has failed", CompanyResourceAccess),
    ("0x87D13B65", "The device is redeeming the redemption code", CompanyResourceAccess),
    ("0x87D13B66", "The app is managed, but has been removed by the user", CompanyResourceAccess),
    ("0x87D13B67", "The app state is unknown", CompanyResourceAccess),
    ("0x87D13B68", "User declined app management", AppInstall),
    ("0x87D13B69", "Device VPP licensing is only applicable for iOS/iPadOS 9.0+ devices", AppInstall),
    ("0x87D13B6E", "App Install Failure 12024: Unknown cause", AppInstall),
    ("0x87D13B6F", "Your connection to Intune timed out", AppInstall),
    ("0x87D13B70", "You lost connection to the Internet. (Cannot Find Host)", AppInstall),
    ("0x87D13B72", "You lost connection to the Internet. (Connection Lost)", AppInstall),
    ("0x87D13B73", "You lost connection to the Internet. (Not Connected to internet)", AppInstall),
    ("0x87D13B77", "The secure connection failed", AppInstall),
    ("0x87D13B7D", "Unknown error. (can be an expired VPP token)", AppInstall),
    ("0x87D13B7E", "License Assignment failed with Apple error 'No VPP licenses remaining'", AppInstall),
    ("0x87D13B7F", "Needed app configuration policy not present, ensure policy is targeted to same groups", AppInstall),
    ("0x87D13B80", "CannotConnectToITunesStoreError", AppInstall),
    ("0x87D13B8F", "The application is installed on the device but is unmanaged", AppInstall),
    ("0x87D13B93", "Can only install VPP apps on Shared iPad", AppInstall),
    ("0x87D13B94", "Can't install apps when App Store is disabled", AppInstall),
    ("0x87D13B95", "Can't find VPP license for app", AppInstall),
    ("0x87D13B96", "Can't install system apps with your MDM provider", AppInstall),
    ("0x87D13B97", "Can't install apps when device is in Lost Mode", AppInstall),
    ("0x87D13B98", "Can't install apps when device is in kiosk mode", AppInstall),
    ("0x87D13B99", "User must sign in to the App Store", AppInstall),
    ("0x87D13B9A", "Unknown problem. Please try again", AppInstall),
    ("0x87D13B9B", "The app installation failed. Intune will try again the next time the device syncs", AppInstall),
    ("0x87D13B9C", "Can't install 32-bit apps on this device", AppInstall),
    ("0x87D13B9D", "The latest version of the app failed to update from an earlier version", AppInstall),
    ("0x87D13B9E", "Can't enforce app uninstall setting. Retry installing the app", AppInstall),
    ("0x87D13B9F", "The VPP App has an update available", AppInstall),
    ("0x87D13E80", "iOS/iPadOS 6000: Keychain system error", IosServiceError),
    ("0x87D13E81", "iOS/iPadOS 6001: Empty string", IosServiceError),
    ("0x87D13E82", "iOS/iPadOS 6002: Cannot create query", IosServiceError),
    ("0x87D14268", "iOS/iPadOS 7000: Host unreachable", IosServiceError),
    ("0x87D14269", "iOS/iPadOS 7001: Invalid credentials", IosServiceError),
    ("0x87D1426A", "iOS/iPadOS 7002: Unknown error occurred during validation", IosServiceError),
    ("0x87D1426B", "iOS/iPadOS 7003: SMIME certificate not found", IosServiceError),
    ("0x87D1426C", "iOS/iPadOS 7004: SMIME certificate is bad", IosServiceError),
    ("0x87D1426D", "iOS/iPadOS 7005: IMAP account is misconfigured", IosServiceError),
    ("0x87D1426E", "iOS/iPadOS 7006: POP account is misconfigured", IosServiceError),
    ("0x87D1426F", "iOS/iPadOS 7007: SMTP account is misconfigured", IosServiceError),
    ("0x87D14650", "iOS/iPadOS 8000: Cannot install Web Clip", IosServiceError),
    ("0x87D14A38", "iOS/iPadOS 9000: Invalid password", IosServiceError),
    ("0x87D14A39", "iOS/iPadOS 9001: Too many certificates in a payload", IosServiceError),
    ("0x87D14A3A", "iOS/iPadOS 9002: Cannot store certificate", IosServiceError),
    ("0x87D14A3B", "iOS/iPadOS 9003: Cannot store WAPI data", IosServiceError),
    ("0x87D14A3C", "iOS/iPadOS 9004: Cannot store root certificate", IosServiceError),
    ("0x87D14A3D", "iOS/iPadOS 9005: Certificate is malformed", IosServiceError),
    ("0x87D14A3E", "iOS/iPadOS 9006: Certificate is not an identity", IosServiceError),
    ("0x87D14E20", "iOS/iPadOS 10000: Cannot install defaults", IosServiceError),
    ("0x87D14E21", "iOS/iPadOS 10001: Invalid signer", IosServiceError),
    ("0x87D15208", "iOS/iPadOS 11000: Cannot install APN", IosServiceError),
    ("0x87D15209", "iOS/iPadOS 11001: Custom APN already installed", IosServiceError),
    ("0x87D155F0", "iOS/iPadOS 12000: Invalid access rights", IosServiceError),
    ("0x87D155F1", "iOS/iPadOS 12001: Multiple MDM instances", IosServiceError),
    ("0x87D155F2", "iOS/iPadOS 12002: Cannot check in", IosServiceError),
    ("0x87D155F3", "iOS/iPadOS 12003: Invalid challenge response", IosServiceError),
    ("0x87D155F4", "iOS/iPadOS 12004: Invalid push certificate", IosServiceError),
    ("0x87D155F5", "iOS/iPadOS 12005: Cannot find certificate", IosServiceError),
    ("0x87D155F6", "iOS/iPadOS 12006: Redirect refused", IosServiceError),
    ("0x87D155F7", "iOS/iPadOS 12007: Not authorized", IosServiceError),
    ("0x87D155F8", "iOS/iPadOS 12008: Malformed request", IosServiceError),
    ("0x87D155F9", "iOS/iPadOS 12009: Invalid replacement profile", IosServiceError),
    ("0x87D155FA", "iOS/iPadOS 12010: Internal inconsistency error", IosServiceError),
    ("0x87D155FB", "iOS/iPadOS 12011: Invalid MDM configuration", IosServiceError),
    ("0x87D155FC", "iOS/iPadOS 12012: MDM replacement mismatch", IosServiceError),
    ("0x87D155FD", "iOS/iPadOS 12013: Profile not managed", IosServiceError),
    ("0x87D155FE", "iOS/iPadOS 12014: Provisioning profile not managed", IosServiceError),
    ("0x87D155FF", "iOS/iPadOS 12015: Cannot get push token", IosServiceError),
    ("0x87D15600", "iOS/iPadOS 12016: Missing identity", IosServiceError),
    ("0x87D15601", "iOS/iPadOS 12017: Cannot create escrow keybag", IosServiceError),
    ("0x87D15602", "iOS/iPadOS 12018: Cannot copy escrow keybag data", IosServiceError),
    ("0x87D15603", "iOS/iPadOS 12019: Cannot copy escrow secret", IosServiceError),
    ("0x87D15604", "iOS/iPadOS 12020: Unauthorized by server", IosServiceError),
    ("0x87D15605", "iOS/iPadOS 12021: Invalid request type", IosServiceError),
    ("0x87D15606", "iOS/iPadOS 12022: Invalid topic", IosServiceError),
    ("0x87D15607", "iOS/iPadOS 12023: Could not validate app iD", IosServiceError),
    ("0x87D15608", "iOS/iPadOS 12024: Could not validate app manifest", IosServiceError),
    ("0x87D15609", "iOS/iPadOS 12025: App already installed", IosServiceError),
    ("0x87D1560A", "iOS/iPadOS 12026: App already queued", IosServiceError),
    ("0x87D1560B", "iOS/iPadOS 12027: Not an app", IosServiceError),
    ("0x87D1560C", "iOS/iPadOS 12028: Not waiting for redemption", IosServiceError),
    ("0x87D1560D", "iOS/iPadOS 12029: App not managed", IosServiceError),
    ("0x87D1560E", "iOS/iPadOS 12030: Invalid URL", IosServiceError),
    ("0x87D1560F", "iOS/iPadOS 12031: App installation disabled", IosServiceError),
    ("0x87D15610", "iOS/iPadOS 12032: Too many apps in manifest", IosServiceError),
    ("0x87D15611", "iOS/iPadOS 12033: Invalid manifest", IosServiceError),
    ("0x87D15612", "iOS/iPadOS 12034: URL is not HTTPS", IosServiceError),
    ("0x87D15613", "iOS/iPadOS 12035: App cannot be purchased", IosServiceError),
    ("0x87D15614", "iOS/iPadOS 12036: Cannot remove app in current state", IosServiceError),
    ("0x87D15615", "iOS/iPadOS 12037: Invalid redemption code", IosServiceError),
    ("0x87D15616", "iOS/iPadOS 12038: App not managed", IosServiceError),
    ("0x87D15617", "iOS/iPadOS 12039: (unused)", IosServiceError),
    ("0x87D15618", "iOS/iPadOS 12040: iTunes store login required", IosServiceError),
    ("0x87D15619", "iOS/iPadOS 12041: Unknown language code", IosServiceError),
    ("0x87D1561A", "iOS/iPadOS 12042: Unknown locale code", IosServiceError),
    ("0x87D159D8", "iOS/iPadOS 13000: Cannot install", IosServiceError),
    ("0x87D159D9", "iOS/iPadOS 13001: Username required", IosServiceError),
    ("0x87D159DA", "iOS/iPadOS 13002: Password required", IosServiceError),
    ("0x87D159DB", "iOS/iPadOS 13003: Cannot create WiFi configuration", IosServiceError),
    ("0x87D159DC", "iOS/iPadOS 13004: Cannot set up EAP", IosServiceError),
    ("0x87D159DD", "iOS/iPadOS 13005: Cannot set up proxy", IosServiceError),
    ("0x87D15DC0", "iOS/iPadOS 14000: Invalid field", IosServiceError),
    ("0x87D15DC1", "iOS/iPadOS 14001: Device locked", IosServiceError),
    ("0x87D15DC2", "iOS/iPadOS 14002: Cloud configuration already exists", IosServiceError),
    ("0x87D161A8", "iOS/iPadOS 15000: Cannot install VPN", IosServiceError),
    ("0x87D161A9", "iOS/iPadOS 15001: Cannot remove VPN", IosServiceError),
    ("0x87D161AA", "iOS/iPadOS 15002: Cannot lock network configuration", IosServiceError),
    ("0x87D161AB", "iOS/iPadOS 15003: Invalid certificate", IosServiceError),
    ("0x87D16590", "iOS/iPadOS 16000: Cannot create subscription", IosServiceError),
    ("0x87D16591", "iOS/iPadOS 16001: No host name", IosServiceError),
    ("0x87D16592", "iOS/iPadOS 16002: Account not unique", IosServiceError),
    ("0x87D16978", "iOS/iPadOS 17000: Cannot create account", IosServiceError),
    ("0x87D16979", "iOS/iPadOS 17001: No host name", IosServiceError),
    ("0x87D1697A", "iOS/iPadOS 17002: Account not unique", IosServiceError),
    ("0x87D16D60", "iOS/iPadOS 18000: Unknown error", IosServiceError),
    ("0x87D16D61", "iOS/iPadOS 18001: Host unreachable", IosServiceError),
    ("0x87D16D62", "iOS/iPadOS 18002: Invalid credentials", IosServiceError),
    ("0x87D17148", "iOS/iPadOS 19000: Cannot create account", IosServiceError),
    ("0x87D17149", "iOS/iPadOS 19001: No host name", IosServiceError),
    ("0x87D1714A", "iOS/iPadOS 19002: Account not unique", IosServiceError),
    ("0x87D17530", "iOS/iPadOS 20000: Cannot create account", IosServiceError),
    ("0x87D17531", "iOS/iPadOS 20001: No host name", IosServiceError),
    ("0x87D17532", "iOS/iPadOS 20002: Account not unique", IosServiceError),
    ("0x87D17918", "iOS/iPadOS 21000: Cannot get policy from server", IosServiceError),
    ("0x87D17919", "iOS/iPadOS 21001: Cannot comply with policy from server", IosServiceError),
    ("0x87D1791A", "iOS/iPadOS 21002: Cannot comply with encryption policy from server", IosServiceError),
    ("0x87D1791B", "iOS/iPadOS 21003: No host name", IosServiceError),
    ("0x87D1791C", "iOS/iPadOS 21004: Cannot create account", IosServiceError),
    ("0x87D1791D", "iOS/iPadOS 21005: Account not unique (Email Profile already exists on device)", IosServiceError),
    ("0x87D1791E", "iOS/iPadOS 21006: Cannot decrypt certificate", IosServiceError),
    ("0x87D1791F", "iOS/iPadOS 21007: Cannot verify account", IosServiceError),
    ("0x87D17D00", "iOS/iPadOS 22000: Invalid key usage", IosServiceError),
    ("0x87D17D01", "iOS/iPadOS 22001: Cannot generate key pair", IosServiceError),
    ("0x87D17D02", "iOS/iPadOS 22002: Invalid CAResponse", IosServiceError),
    ("0x87D17D03", "iOS/iPadOS 22003: Invalid RAResponse", IosServiceError),
    ("0x87D17D04", "iOS/iPadOS 22004: Unsupported certificate configuration", IosServiceError),
    ("0x87D17D05", "iOS/iPadOS 22005: Network error", IosServiceError),
    ("0x87D17D06", "iOS/iPadOS 22006: Insufficient CACaps", IosServiceError),
    ("0x87D17D07", "iOS/iPadOS 22007: Invalid signed certificate", IosServiceError),
    ("0x87D17D08", "iOS/iPadOS 22008: Cannot create identity", IosServiceError),
    ("0x87D17D09", "iOS/iPadOS 22009: Cannot create temporary identity", IosServiceError),
    ("0x87D17D0A", "iOS/iPadOS 22010: Cannot store temporary identity", IosServiceError),
    ("0x87D17D0B", "iOS/iPadOS 22011: Cannot generate CSR", IosServiceError),
    ("0x87D17D0C", "iOS/iPadOS 22012: Cannot store CACertificate", IosServiceError),
    ("0x87D17D0D", "iOS/iPadOS 22013: Invalid PKIOperation response", IosServiceError),
    ("0x87D180E8", "iOS/iPadOS 23000: Bad identity", IosServiceError),
    ("0x87D180E9", "iOS/iPadOS 23001: Bad server response", IosServiceError),
    ("0x87D180EA", "iOS/iPadOS 23002: Invalid server certificate", IosServiceError),
    ("0x87D184D0", "iOS/iPadOS 24000: Cannot create attribute dictionary", IosServiceError),
    ("0x87D184D1", "iOS/iPadOS 24001: Cannot sign attribute dictionary", IosServiceError),
    ("0x87D184D2", "iOS/iPadOS 24002: Bad identity payload", IosServiceError),
    ("0x87D184D3", "iOS/iPadOS 24003: Bad final profile", IosServiceError),
    ("0x87D188B8", "iOS/iPadOS 25000: Bad profile", IosServiceError),
    ("0x87D188B9", "iOS/iPadOS 25001: Cannot install", IosServiceError),
    ("0x87D188BA", "iOS/iPadOS 25002: Cannot remove", IosServiceError),
    ("0x87D18CA0", "iOS/iPadOS 26000: Block level encryption unsupported", IosServiceError),
    ("0x87D18CA1", "iOS/iPadOS 26001: File level encryption unsupported", IosServiceError),
    ("0x87D19470", "iOS/iPadOS 28000: Unknown item", IosServiceError),
    ("0x87D19471", "iOS/iPadOS 28001: Bad wallpaper image", IosServiceError),
    ("0x87D19472", "iOS/iPadOS 28002: Cannot set wallpaper", IosServiceError),
    ("0x87D19858", "iOS/iPadOS 29000: Device not supervised", IosServiceError),
    ("0x87D1985B", "iOS/iPadOS 29003: Bad certificate data", IosServiceError),
    ("0x87D19C40", "iOS/iPadOS 30000: Authentication failed", IosServiceError),
    ("0x87D19C41", "iOS/iPadOS 30001: Timed out", IosServiceError),
    ("0x87D1A028", "iOS/iPadOS 31000: Cannot apply credential", IosServiceError),
    ("0x87D1A029", "iOS/iPadOS 31001: Cannot apply settings", IosServiceError),
    ("0x87D1A410", "iOS/iPadOS 32000: Too many apps", IosServiceError),
    ("0x87D1ABE0", "iOS/iPadOS 34000: Invalid app identifier match pattern", IosServiceError),
    ("0x87D1ABE1", "iOS/iPadOS 34001: Invalid URL match pattern", IosServiceError),
    ("0x87D1ABE2", "iOS/iPadOS 34002: Kerberos principal name missing", IosServiceError),
    ("0x87D1ABE3", "iOS/iPadOS 34003: Kerberos principal name invalid", IosServiceError),
    ("0x87D1AFC8", "iOS/iPadOS 35000: Invalid font data", IosServiceError),
    ("0x87D1AFC9", "iOS/iPadOS 35001: Failed font installation", IosServiceError),
    ("0x87D1AFCA", "iOS/iPadOS 35002: Multiple fonts in a single payload", IosServiceError),
    ("0x87D1B3B0", "iOS/iPadOS 36000: Cellular already configured", IosServiceError),
    ("0x87D1B3B1", "iOS/iPadOS 36001: (internal error)", IosServiceError),
    ("0x87D1B798", "iOS/iPadOS: Internal error", IosServiceError),
    ("0x87D1B799", "iOS/iPadOS: Internal error", IosServiceError),
    ("0x87D1FDE8", "Remediation failed", CompanyResourceAccess),
    ("0x87D1FDE9", "Not applicable for this device", CompanyResourceAccess),
    ("0x87D1FDEA", "Invalid parameter to CIM setting", CompanyResourceAccess),
    ("0x87D1FDEB", "Data type conversion failed", CompanyResourceAccess),
    ("0x87D1FDEC", "Referenced setting not found in CI", CompanyResourceAccess),
    ("0x87D1FDED", "Unsupported setting discovery source", CompanyResourceAccess),
    ("0x87D1FDEE", "Not applicable because it lost in conflict resolution", CompanyResourceAccess),
    ("0x87D1FDEF", "Failed to evaluate the Rule", CompanyResourceAccess),
    ("0x87D1FDF0", "MDM CI certificate info not found", CompanyResourceAccess),
    ("0x87D1FDF1", "MDM CRP certificate info not found", CompanyResourceAccess),
    ("0x87D1FDF2", "NDES URL not found", CompanyResourceAccess),
    ("0x87D1FDF3", "MDM CRP request not found", CompanyResourceAccess),
    ("0xC7D14FB1", "The end user canceled the app installation", AppInstall),
    ("0xC7D14FB2", "The download failed because of an unknown error", AppInstall),
    ("0xC7D14FB5", "The app failed to install. (Android)", AppInstall),
    ("0xC7D14FB6", "The app installation APK file cannot be installed because it was not signed", AppInstall),
    ("0xC7D14FB7", "The app installation APK file used for the upgrade does not match the signature for the current app on the device", AppInstall),
    ("0xC7D14FB8", "The app failed to uninstall", AppInstall),
    ("0xC7D14FB9", "The end user canceled the app installation. (At the accept prompt)", AppInstall),
    ("0xC7D14FBA", "The app installation was canceled because the installation (APK) file was deleted after download, but before installation", AppInstall),
    ("0xC7D14FBB", "The app installation was canceled because the process was restarted during installation", AppInstall),
    ("0xC7D14FBC", "Uninstall of the app was canceled because the process was restarted during installation", AppInstall),
    ("0xC7D15015", "The file download process was unexpectedly stopped", AppInstall),
    ("0xC7D15078", "The download failed because of an unknown error. The policy will be retried the next time the device syncs", AppInstall),
    ("0xC7D1507C", "The file download service was unexpectedly stopped. The policy will be retried the next time the device syncs", AppInstall),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::error_code;

    #[test]
    fn documented_codes_have_their_meaning_and_source() {
        assert_eq!(meaning("0x87D1FDE8"), Some("Remediation failed"));
        assert_eq!(source("0x87D1FDE8"), Some(Source::CompanyResourceAccess));
        assert_eq!(
            meaning("0x87D101F4"),
            Some(
                "Syncml(500): The recipient encountered an unexpected condition which \
                 prevented it from fulfilling the request"
            )
        );
        assert_eq!(source("0x87D101F4"), Some(Source::OmaResponse));
        assert_eq!(
            meaning("0x87D10194"),
            Some("Syncml(404): The requested target was not found")
        );
        assert_eq!(
            meaning("0x87D12AF8"),
            Some("iOS/iPadOS 1000: Malformed profile")
        );
        assert_eq!(source("0x87D12AF8"), Some(Source::IosServiceError));
        assert_eq!(
            meaning("0x87D1041C"),
            Some("The application was not detected after installation completed successfully")
        );
        assert_eq!(source("0x87D1041C"), Some(Source::AppInstall));
        assert_eq!(
            meaning("0x80180014"),
            Some(
                "MENROLL_E_DEVICENOTSUPPORTED: A specific platform (e.g. Windows) or version \
                 is not supported; the general fix is to upgrade the device"
            )
        );
        assert_eq!(source("0x80180014"), Some(Source::MdmRegistration));
    }

    #[test]
    fn the_first_and_last_codes_are_found() {
        // Binary search edges.
        let (first, _, _) = CODES[0];
        let (last, _, _) = CODES[CODES.len() - 1];
        assert_eq!(first, "0x00180011");
        assert_eq!(last, "0xC7D1507C");
        assert!(meaning(first).is_some());
        assert!(meaning(last).is_some());
    }

    #[test]
    fn undocumented_codes_have_no_meaning() {
        // Seen in real tenants, but documented nowhere by Microsoft.
        assert_eq!(meaning("0x87D1FBFB"), None);
        assert_eq!(meaning("0x86000019"), None);
        assert_eq!(source("0x86000019"), None);
        // Listed by Microsoft with no text.
        assert_eq!(meaning("0x87D19859"), None);
        assert_eq!(meaning("0x87D1985A"), None);
        // Not a code at all, or not in the stored spelling.
        assert_eq!(meaning(""), None);
        assert_eq!(meaning("Remediation failed"), None);
        assert_eq!(meaning("0x87d1fde8"), None);
    }

    #[test]
    fn any_spelling_of_a_code_finds_its_meaning_once_stored() {
        for given in ["-2016281112", "2278686184", "0x87d1fde8"] {
            let stored = error_code::normalize(given).expect("a nonzero code");
            assert_eq!(meaning(&stored), Some("Remediation failed"), "{given}");
        }
    }

    #[test]
    fn the_table_is_sorted_with_one_row_per_code() {
        for pair in CODES.windows(2) {
            assert!(
                pair[0].0 < pair[1].0,
                "`{}` and `{}` are out of order or repeated",
                pair[0].0,
                pair[1].0
            );
        }
    }

    #[test]
    fn every_code_is_in_the_stored_spelling() {
        for (code, meaning, _) in CODES {
            let digits = code.strip_prefix("0x").unwrap_or_default();
            assert!(
                digits.len() == 8
                    && digits
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)),
                "`{code}` is not 0x and 8 upper-case hex digits"
            );
            assert_eq!(
                error_code::normalize(code).as_deref(),
                Some(*code),
                "ingest stores `{code}` differently"
            );
            assert!(!meaning.trim().is_empty(), "`{code}` has no meaning");
            assert!(!meaning.ends_with('.'), "`{code}`: no closing period");
        }
    }

    #[test]
    fn every_source_is_cited_in_the_docs() {
        let docs = include_str!("../docs/error-codes.md");
        for source in [
            Source::CompanyResourceAccess,
            Source::IosServiceError,
            Source::OmaResponse,
            Source::AppInstall,
            Source::MdmRegistration,
        ] {
            let (repo, path) = source.page().split_once(": ").expect("repo: path");
            assert!(
                docs.contains(repo),
                "docs/error-codes.md does not cite {repo}"
            );
            assert!(
                docs.contains(path),
                "docs/error-codes.md does not cite {path}"
            );
        }
    }
}
