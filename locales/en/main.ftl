# English: the source catalog. Every key here is also in es/main.ftl (the catalog tests check).
# Arguments are written { $name }; numbers choose plural forms.

language-name = English
language-switcher = Language

## Every page

site-title = HCCC sign-in
college-name = Hudson County Community College
skip-to-content = Skip to main content
footer-service = One sign-in for the college's web apps
footer-help = Need help? Contact the IT Help Desk.
signed-in-as = Signed in as { $name }
sign-out = Sign out
action-back = Back
action-continue = Continue
action-save = Save
form-has-problems = Please correct the following and try again:
problem-of-field = { $field }: { $problem }

## Sign-in

login-title = Sign in
login-to-continue = to continue to { $app }
login-username = Username or college e-mail
login-password = Password
login-remember = Keep me signed in on this device
login-remember-hint = Leave this unticked on a shared or lab computer.
login-submit = Sign in
login-with-phone = Sign in with your phone instead (QR code)
login-form-expired = This form had expired. Please sign in again.
login-missing = Enter your username and password.
login-incorrect = The username or password is incorrect.
login-locked = { $minutes ->
    [one] Too many failed sign-in attempts. For your security, sign-in is paused; try again in { $minutes } minute.
   *[other] Too many failed sign-in attempts. For your security, sign-in is paused; try again in { $minutes } minutes.
}

## Passwords

new-password-title = Choose a new password
new-password-lead = You signed in with a temporary password. Choose a new password to continue.
new-password-submit = Save and continue
password-current = Current password
password-new = New password
password-again = New password again
password-rules = At least 12 characters. A short sentence is easy to remember and hard to guess.
password-mismatch = The two new passwords are not the same.
password-current-incorrect = The current password is incorrect.
password-current-missing = Type your current password.
account-password-title = Change your password
account-password-submit = Change password
account-password-done = Your password is changed. Other browsers and apps that were signed in with the old one have been signed out.

## Home

home-title = Your account
home-signed-in = You are signed in
home-lead = Sign in once to use the college's web apps.
home-change-password = Change your password
home-language = Your language
home-language-hint = Used when you sign in on a new device, in the college's e-mails, and by apps that ask for it.
home-language-none = Not chosen (use the browser's language)
home-language-saved = Your language has been saved.

## Consent

consent-title = Allow access
consent-heading = Allow { $app } to use your account?
consent-asks-for = { $app } is asking for:
consent-allow = Allow
consent-deny = Don't allow
consent-remembered = You will not be asked again for this application unless it asks for more.
consent-asked-each-time = This application asks to act with your own rights, so you are asked each time.
scope-openid = Confirm who you are (your account identifier)
scope-profile = Your name and username
scope-email = Your e-mail address
scope-roles = Your roles and groups at the college
scope-offline-access = Stay connected to your account when you are not using the app
scope-api = Act as you at HCCC sign-in's API: manage your account, and the directory if you are an administrator

## Signing in with a phone (QR code) and confirming codes (device)

qr-title = Sign in with your phone
qr-lead = Use your phone, where you are already signed in, to sign in on this computer without typing your password.
qr-image-label = QR code to scan with your phone's camera
qr-step-camera = Open your phone's camera and point it at the code.
qr-step-approve = Open the link and allow the sign-in on your phone.
qr-step-wait = This page continues by itself.
qr-no-camera = No camera? On your phone, go to { $address } and enter the code
qr-status-waiting = Waiting for your phone…
qr-status-approved = Approved. Signing you in…
qr-status-denied = The sign-in was cancelled on the phone.
qr-status-expired = This code has expired.
qr-status-retrying = Connection lost. Trying again…
qr-new-code = Get a new code
qr-use-password = Sign in with your password instead
device-title = Sign in on another device
device-enter-code = Enter the code shown on the other screen.
device-code-label = Code
device-code-invalid = That code is not valid or has expired. Check the code on the other screen.
device-asking = { $app } is asking to sign in as you.
device-asking-qr-app = A computer signing in to { $app } is asking to sign in as you.
device-asking-qr = HCCC sign-in on another computer is asking to sign in as you.
device-check-code = Only continue if you started this yourself and the code matches the one on the other screen:
device-computer-warning = Only approve if you are sitting at this computer now. If someone sent you this code or showed it to you, choose No: approving would sign them in as you.
device-computer-ip = Computer's network address
device-computer-browser = Browser
device-computer-started = When the code was shown
device-unknown-browser = An unknown browser
device-will-see = It will be able to see:
device-allow = Yes, sign in
device-deny = No, cancel
device-done-title = Signed in
device-done-heading = You're signed in on the other device
device-done-lead = You can close this page. Remember to sign out of shared computers when you are done.
device-cancelled-title = Cancelled
device-cancelled-heading = Sign-in cancelled
device-cancelled-lead = Nothing was signed in. You can close this page.

## Signing out

logout-heading = Sign out of HCCC?
logout-lead = You are signed in as { $name }.
logout-lead-app = You are signed in as { $name }. { $app } asked to sign you out.
logout-explain = Signing out ends your HCCC sign-in in this browser. Applications you use will ask you to sign in again.
logout-stay = Stay signed in
logged-out-title = Signed out
logged-out-heading = You are signed out
logged-out-lead = You have signed out of HCCC sign-in on this browser.
logged-out-shared = On a shared computer, close the browser to end every session.
logged-out-again = Sign in again
form-post-title = Returning to the app
form-post-returning = Returning you to the app…

## Error pages

error-reference = Reference for the IT Help Desk:
error-home-link = Go to the HCCC sign-in home page
error-not-found-title = Page not found
error-not-found = There is no page at this address. Check the link, or start from the app you were using.
error-server-title = Something went wrong
error-server = This is our fault, not yours. Please try again in a moment.
error-unavailable-title = Sign-in is unavailable
error-unavailable = HCCC sign-in cannot reach its database right now. Please try again in a few minutes.
error-invalid-form-title = This form could not be read
error-form-expired-title = This form has expired
error-form-expired = The page was open too long or came from somewhere else. Go back, reload the page and try again.
error-sign-in-expired-title = This sign-in has expired
error-sign-in-expired = Return to the app you were using and start signing in again.
error-already-answered-title = Already answered
error-already-answered = This request has already been answered. Return to the app you were using.
error-page-expired-title = This page has expired
error-page-expired = Sign in again.
error-too-many-starts-title = Too many sign-ins started
error-too-many-starts = Too many sign-ins were started from your network. Please wait a few minutes and try again.
error-too-many-codes-title = Too many wrong codes
error-too-many-codes = { $minutes ->
    [one] Too many codes that did not match were entered from your network. Try again in { $minutes } minute.
   *[other] Too many codes that did not match were entered from your network. Try again in { $minutes } minutes.
}
error-code-used-title = That code is no longer valid
error-code-used = It expired or was already used. Start again on the other screen.
error-invalid-link-title = This sign-in link is not valid
error-link-expired-title = This sign-in link has expired
error-link-expired = Return to the application and start signing in again.
error-invalid-request-title = Invalid sign-in request
error-no-redirect-uri = The application did not say where to return you (no redirect_uri).
error-unregistered-redirect = The application asked to return you to an address it has not registered, so sign-in was stopped for your safety.
error-unknown-app-title = Unknown application
error-no-client-id = The application that sent you here did not identify itself (no client_id).
error-unknown-app = The application that sent you here is not registered with HCCC sign-in.
error-logout-invalid-title = This sign-out request is not valid
error-logout-foreign-hint = The application sent an ID token that this server did not issue.
error-logout-other-issuer = The application sent an ID token from another issuer.
error-logout-client-mismatch = client_id does not match the ID token.
error-logout-unregistered-redirect = The application asked to send you to an address it has not registered, so you were not redirected.
error-invalid-address-title = This address is not valid
error-invalid-page = The page number is not valid.
error-invalid-filter-title = This filter is not valid
error-admins-only-title = Administrators only
error-admins-only = Your account does not have the admin role. Ask the IT Help Desk if you need it.
error-not-changed-title = This change was not made
error-account-exists = An account with this username or e-mail address already exists.
error-last-admin = The last active admin cannot be removed, disabled or demoted.
error-invalid-client-title = This app's settings are not valid
error-invalid-client = Correct the app's settings on its page first.
error-upload-title = The upload could not be read
error-upload = Choose the file again and send it once more.
error-param-repeated = The parameter { $name } is repeated.
error-param-too-long = The parameter { $name } is longer than { $max } characters.
error-param-control = The parameter { $name } contains a control character.
error-form-content-type = The form was not sent as a form (application/x-www-form-urlencoded).
error-form-unreadable = The form could not be read completely.
forbidden-own-roles = You cannot change your own roles.
forbidden-disable-self = You cannot disable your own account.
forbidden-delete-self = You cannot delete your own account.

## What is wrong with a value (pages, the API and the command line)

invalid-control = contains a control character
invalid-username = must be 2 to { $max } letters, digits, '.', '_' or '-', starting with a letter or digit
invalid-email = "{ $value }" is not a valid e-mail address
invalid-password-short = must be at least { $min } characters
invalid-password-long = must be at most { $max } characters
invalid-password-username = must not contain the username
invalid-password-common = this password is among the most common breached passwords; choose another
invalid-role = "{ $value }" is not a role; roles are { $roles }
invalid-groups-count = at most { $max } groups
invalid-group = the group "{ $value }" must be 1 to { $max } characters, without ';' or control characters
invalid-name = must be at most { $max } characters, without control characters
invalid-locale = must be one of { $languages }
invalid-uri-control = must not contain control characters
invalid-uri-absolute = "{ $value }" is not an absolute URL
invalid-uri-fragment = "{ $value }" must not contain a fragment
invalid-uri-http = "{ $value }" must use https (http is allowed only for localhost)
invalid-uri-https = "{ $value }" must use https
invalid-uri-long = must be at most { $max } characters
invalid-scope = "{ $value }" is not a scope; scopes are { $scopes }
invalid-client-name = must be 1 to { $max } characters, without control characters
invalid-grants-none = at least one grant type is needed
invalid-redirect-none = the authorization_code grant needs at least one redirect URI
invalid-grants-public = client_credentials needs a confidential client (token_endpoint_auth_method other than none)
invalid-method-keys = private_key_jwt needs jwks or jwks_uri
invalid-api-roles-grant = API roles are used with the client_credentials grant; add it to grant_types
invalid-scopes-openid = a client that signs people in (authorization_code or device_code) needs openid
invalid-id-token-alg = must be RS256 or ES256
invalid-grant = "{ $value }" is not one of { $grants }
invalid-method = "{ $value }" is not one of { $methods }
invalid-jwks = is not a JWKS document
invalid-jwks-large = is larger than 64 KiB
invalid-jwks-empty = the JWKS has no keys
invalid-jwks-private = contains a private key; register only public keys
invalid-search = the search must be at most { $max } characters
invalid-role-filter = choose one of the roles in the list
invalid-status-filter = the status must be active, disabled or all
invalid-audit-filter = { $field }: this value is not valid

## Fields, as the forms and the audit log name them

field-username = Username
field-email = E-mail
field-email_verified = E-mail address verified
field-given_name = Given name
field-family_name = Family name
field-roles = Roles
field-groups = Groups
field-password = Password
field-temporary_password = Temporary password
field-current_password = Current password
field-new_password = New password
field-confirm_password = New password again
field-recovery_email = Recovery e-mail
field-locale = Language
field-disabled = Disabled
field-name = Name
field-redirect_uris = Redirect URIs
field-post_logout_redirect_uris = Post-logout redirect URIs
field-backchannel_logout_uri = Back-channel logout URI
field-grant_types = Grant types
field-token_endpoint_auth_method = Token endpoint authentication
field-skip_consent = Skip the consent page
field-require_par = Require pushed authorization requests
field-allowed_scopes = Scopes it may ask for
field-api_roles = API roles
field-jwks = JWKS
field-jwks_uri = JWKS URI
field-id_token_alg = ID token signing algorithm
field-created = Created
field-updated = Updated
field-unchanged = Unchanged
field-rejected = Rejected
field-file = File
field-sessions_ended = Sessions ended
field-grants_ended = App sign-ins ended
field-skipped = Skipped (their invitation still works)
field-resend = Replaced invitations that still worked
role-admin = Administrator
role-staff = Staff
role-faculty = Faculty
role-student = Student
grant-authorization-code = Sign-in from a web or mobile app (authorization code)
grant-refresh-token = Stay signed in (refresh tokens)
grant-client-credentials = Service-to-service (client credentials)
grant-device-code = Devices without a keyboard (device code)
grant-password = Password grant (legacy scripts only)

## Administration

admin-nav = Administration
admin-nav-users = Users
admin-nav-import = Import
admin-nav-clients = Apps
admin-nav-keys = Signing keys
admin-nav-audit = Audit log
admin-nav-docs = API docs
admin-filter = Filter
admin-search = Search
admin-role = Role
admin-any-role = Any role
admin-status = Status
admin-status-all = All
admin-status-active = Active
admin-status-disabled = Disabled
admin-username = Username
admin-name = Name
admin-email = E-mail address
admin-roles = Roles
admin-optional = (optional)
admin-one-per-line = (one per line)
admin-confirm-delete-needed = Tick the box to confirm the deletion.
pager-label = Pages
pager-previous = Previous page
pager-next = Next page
pager-position = Page { $page } of { $pages }
notice-created = Created.
notice-saved = Saved.
notice-disabled = The account is disabled: its sessions have ended and its tokens are revoked.
notice-enabled = The account is enabled.
notice-password = Temporary password set. The person must choose a new one at their next sign-in.
notice-deleted = Deleted.
notice-rotated = New signing keys are published; they start signing after the publish lead time.
notice-imported = Import complete.
admin-users-title = Users
admin-users-new = New user
admin-users-search-hint = Username, e-mail or name
admin-users-count-more = More than { $count } users match: narrow the search to see them all
admin-users-count = { $count ->
    [one] { $count } user
   *[other] { $count } users
}
admin-user-created = Created { $when }
admin-user-must-change = must choose a new password at the next sign-in
admin-user-email-verified = The e-mail address is verified
admin-user-recovery-hint = (optional: invitations and password resets go here instead)
admin-user-locale-none = Not chosen
admin-user-own-roles = You cannot change your own roles.
admin-user-password-hint = (optional; at least 12 characters)
admin-user-temporary = Temporary: must be changed at first sign-in
admin-user-create = Create user
admin-user-actions = Account actions
admin-user-enable = Enable account
admin-user-disable = Disable account
admin-user-disable-hint = Disabling ends the person's sessions and revokes their apps' tokens at once.
admin-user-temporary-password = New temporary password
admin-user-set-temporary = Set a temporary password
admin-user-temporary-hint = The person's sessions end, and they must choose a new password at their next sign-in.
admin-user-confirm-delete = Delete { $name } and everything issued to them
admin-user-delete = Delete account
admin-user-status-choice = Choose to enable or disable the account.
admin-clients-title = Apps
admin-clients-new = Register an app
admin-client-id = Client ID
admin-client-secret = Client secret
admin-grants = What it may do
admin-consent = Consent
admin-consent-asked = Asked of each person
admin-consent-skipped = Skipped (trusted college app)
admin-client-name-hint = (shown to people on the sign-in and consent pages)
admin-client-redirect-hint = (one per line, matched exactly)
admin-client-scopes-hint = (what the app may ask for; the person still consents)
admin-client-skip-consent = Trusted college app: do not ask people for consent (never for the api scope)
admin-client-require-par = Require pushed authorization requests (PAR)
admin-client-api-roles-hint = (the rights of the app's own API tokens)
admin-client-register = Register the app
admin-client-actions = App actions
admin-client-rotate = Issue a new secret
admin-client-rotate-hint = The old secret stops working at once.
admin-client-confirm-delete = Yes, delete { $name }, ending every sign-in made through it
admin-client-delete = Delete the app
admin-secret-once = Copy the secret now: it is shown only this once.
admin-secret-none = This app has no secret: it is a public client, or signs its requests with its own key.
admin-secret-back = Back to the app
admin-keys-title = Signing keys
admin-keys-caption = Published signing keys, newest first
admin-key-id = Key ID
admin-key-alg = Algorithm
admin-key-state = State
admin-key-created = Created
admin-key-signs-from = Signs from
admin-key-retired = Retired
admin-key-signing = signing
admin-key-published = published, not yet signing
admin-key-verifying = published, verifying only
admin-keys-rotate = Rotate the signing keys
admin-keys-rotate-hint = New keys are published at once and start signing after the publish lead time, so apps have them before they see them used.
admin-import-title = Import users
admin-import-lead = Upload the student information system's CSV export. Its columns:
admin-import-rules = Accounts are matched by username: new ones are created, existing ones updated, and a second import of the same file changes nothing. Nothing is written until you have checked the dry run, and then all rows or none.
admin-import-file = CSV file
admin-import-check = Check the file (dry run)
admin-import-dry-run = Dry run
admin-import-summary = { $created } to create, { $updated } to update, { $unchanged } unchanged, { $rejected } rejected.
admin-import-new-accounts = New accounts
admin-import-changed-accounts = Accounts that change
admin-import-line = Line { $line }: { $username }
admin-import-more = { $count ->
    [one] and { $count } more
   *[other] and { $count } more
}
admin-import-now = Import now
admin-import-rejected = Rejected rows
admin-import-line-number = Line
admin-import-reason = Problems
admin-import-choose-file = Choose a CSV file to import.
admin-import-rows-rejected = { $count ->
    [one] { $count } row cannot be imported. Nothing has been written: correct the file and check it again.
   *[other] { $count } rows cannot be imported. Nothing has been written: correct the file and check it again.
}
import-too-large = the file is larger than { $mib } MiB
import-bad-header = the header line cannot be read
import-unknown-column = unknown column "{ $column }"; the columns are { $columns }
import-repeated-column = the column "{ $column }" appears twice
import-missing-column = the header must name a { $column } column
import-bad-line = line { $line } is not valid CSV
import-too-many-rows = more than { $max } rows; split the file
import-repeated-username = the username appears earlier in the file
import-repeated-email = the e-mail address appears earlier in the file
import-email-taken = the e-mail address belongs to another account
import-admin-role = the admin role cannot be given by import; give it on the user's page
import-admin-role-change = the import cannot add or remove the admin role; change it on the user's page
admin-audit-title = Audit log
admin-audit-filters = Filter the audit log
admin-audit-actor = Who
admin-audit-target = Concerning (name or ID)
admin-audit-action = What
admin-audit-any-action = Any change
admin-audit-from = From
admin-audit-to = To
admin-audit-dates = Dates
admin-audit-clear = Show every entry
admin-audit-count-more = More than { $count } entries, newest first: narrow the search to see them all
admin-audit-count = { $count ->
    [one] { $count } entry, newest first
   *[other] { $count } entries, newest first
}
admin-audit-when = When
admin-audit-who = Who
admin-audit-what = What
admin-audit-concerning = Concerning
admin-audit-changes = Details
admin-audit-from-address = From address
admin-yes = Yes
admin-no = No
admin-audit-changed = { $before } → { $after }
audit-actor-user = { $name } (account { $id })
audit-actor-client = { $name } (app { $id })
audit-actor-cli = The command line on the server
audit-actor-cli-user = The command line on the server, as { $name } (user id { $id })
audit-actor-other = { $name }
audit-unknown-action = { $action }
audit-user-create = Created an account
audit-user-update = Changed an account
audit-user-update-profile = Changed their own profile
audit-user-disable = Disabled an account
audit-user-enable = Enabled an account
audit-user-set-temporary-password = Set a temporary password
audit-user-change-password = Changed their own password
audit-user-delete = Deleted an account
audit-user-import = Imported accounts from a file
audit-client-create = Registered an app
audit-client-update = Changed an app
audit-client-rotate-secret = Issued a new app secret
audit-client-delete = Deleted an app
audit-keys-rotate = Rotated the signing keys
audit-database-migrate = Applied the database migrations

## E-mails

mail-greeting = Hello { $name },
mail-footer = { $college } · Sent by the college's sign-in service. You get this message because of your account; nothing in it is tracked.
mail-link-fallback = If the button does not work, copy this address into your browser:
mail-link-expires = The link works once and until { $when }.
mail-not-you = If this was not you, reset your password from the sign-in page and contact the IT Help Desk.
mail-invitation-subject = Set up your { $college } account
mail-invitation-body = An account has been made for you at { $college } (username { $username }). Choose your password to start using the college's web apps.
mail-invitation-button = Choose your password
mail-reset-subject = Reset your { $college } password
mail-reset-body = Someone, we hope you, asked to reset the password of your account { $username }.
mail-reset-button = Choose a new password
mail-reset-expires = { $minutes ->
    [one] The link works once, for { $minutes } minute.
   *[other] The link works once, for { $minutes } minutes.
}
mail-reset-ignore = If you did not ask for this, ignore this message: your password stays as it is.
mail-confirm-subject = Confirm your e-mail address for { $college }
mail-confirm-body = Confirm that { $address } is the address of your account { $username }.
mail-confirm-button = Confirm my address
mail-address-changing-subject = The e-mail address of your { $college } account is changing
mail-address-changing-body = A new address, { $address }, was given for your account { $username }. This address stays in use until the new one is confirmed.
mail-address-changed-subject = The e-mail address of your { $college } account was changed
mail-address-changed-body = The address of your account { $username } was changed to { $address } on { $when }. Messages for the account, such as password reset links, now go to that address.
mail-address-changed-not-you = If this was not you, contact the IT Help Desk at once.
mail-password-changed-subject = Your { $college } password was changed
mail-password-changed-body = The password of your account { $username } was changed on { $when }. Your other sessions and app sign-ins have ended.

## Links from e-mail, "Forgot your password?", and the account page
link-invalid-title = This link does not work
link-invalid = The link has expired, was already used, or a newer one was sent. Ask for a new one from the sign-in page ("Forgot your password?") or the IT Help Desk.
confirm-address-taken = This address now belongs to another account, so it cannot be confirmed for yours.
forgot-throttled-title = Too many requests
forgot-throttled = { $minutes ->
    [one] Too many reset requests came from your network. Please try again in { $minutes } minute, or contact the IT Help Desk.
   *[other] Too many reset requests came from your network. Please try again in { $minutes } minutes, or contact the IT Help Desk.
}
mail-throttled-title = Too many e-mails asked for
mail-throttled = { $minutes ->
    [one] Too many e-mails of this kind were asked for in the last hour; try again in { $minutes } minute.
   *[other] Too many e-mails of this kind were asked for in the last hour; try again in { $minutes } minutes.
}
welcome-title = Welcome: choose your password
welcome-lead = Your username is { $username }. Choose a password to finish setting up your account.
welcome-submit = Set my password and sign in
reset-title = Choose a new password
reset-lead = Choose a new password for your account { $username }. Your other sessions and app sign-ins will end.
reset-submit = Set my new password
forgot-title = Forgot your password?
forgot-lead = Type your username or e-mail address. If an account matches, we will send it a link to choose a new password.
forgot-login = Username or e-mail address
forgot-submit = Send me a link
forgot-missing = Type your username or e-mail address.
forgot-sent = If an account matches, we sent a link to its e-mail address. The link works once, for { $minutes ->
    [one] one minute
   *[other] { $minutes } minutes
}.
forgot-sent-next = Check your inbox and spam folder. No message after a few minutes? Check the spelling and try again, or contact the IT Help Desk.
forgot-back = Back to sign in
confirm-title = Confirm your e-mail address
confirm-lead = Confirm that { $address } is the address of your account.
confirm-submit = Confirm this address
confirm-done = Thank you: { $address } is now the confirmed address of your account.
login-forgot = Forgot your password?
login-manage-account = Manage your account
home-manage-account = Your account: sessions, apps and activity
account-title = Your account
account-profile = Name and language
account-security = Sign-in and e-mail
account-email-verified = confirmed
account-email-unverified = not confirmed
account-email-pending = Waiting for confirmation
account-send-verification = Send me a confirmation link
account-new-email = New e-mail address
account-new-email-hint = We send a confirmation link to the new address; your current address stays in use until you follow it.
account-reauthenticate = Type your current password to make this change.
totp-enrol-password-hint = Type your current password too: adding two-step verification changes how your account signs in.
account-change-email = Change my e-mail address
account-email-cancel = Cancel this change
account-email-cancelled = The change of address is cancelled: its confirmation link no longer works.
account-sessions = Where you are signed in
account-device = Browser and system
account-ip = Address
account-signed-in-at = Signed in
account-last-seen = Last active
account-actions = Actions
account-this-browser = This browser
account-end-session = Sign out there
account-end-session-detail = ({ $device }, signed in { $at })
account-end-others = Sign out everywhere else
account-apps = Apps you allowed
account-apps-none = No app has access to your account.
account-app-since = Since { $when }. It may:
account-revoke = Remove access
account-revoke-detail = ({ $app })
account-activity = Recent sign-in activity
account-when = When
account-result = Result
account-device-unknown = Unknown browser
account-method-password = with a password
account-method-qr = with a phone (QR code)
account-method-invitation = from an invitation link
account-method-reset = from a password reset link
account-method-reauthentication = password typed again
account-method-password-grant = by an app, with a password
account-method-api = through the API
account-result-succeeded = Signed in
account-result-failed = Wrong password
account-result-locked = Paused after too many attempts
account-saved = Your changes are saved.
account-email-sent = We sent a confirmation link to the new address, and a notice to the current one.
account-verification-sent = We sent a confirmation link to your address.
account-session-ended = That session is signed out, and its apps were told.
account-sessions-ended = Every other session is signed out, and their apps were told.
account-app-revoked = The app's access is removed: it can no longer act for you.
account-email-same = This is already your address.
account-unknown-item = This item is not in your account any more. Reload the page.

## Admin: invitations, links and mail
admin-select = Select
admin-select-user = Select { $username }
admin-no-password = no password yet
admin-invite-selected = Invite the selected accounts
admin-invite-heading = Invitations
admin-invite-hint = An invitation e-mails a link to choose a password (to the recovery address when there is one). Accounts that already have a password are skipped, and so are accounts whose invitation still works, unless you choose to send them a new link: that ends the link they already have.
admin-invite-resend = Also send a new link to accounts whose invitation still works (their earlier link stops working)
admin-invite-filtered = Invite the accounts this filter matches
admin-invite-all = Invite every account without a password
notice-invited = { $count ->
    [0] No account needed an invitation: each already has a password.
    [one] One invitation is on its way.
   *[other] { $count } invitations are on their way.
}
notice-invited-one = The invitation is on its way.
notice-invite-skipped = { $count ->
    [one] One account was skipped: its invitation still works. To replace it, tick "Also send a new link".
   *[other] { $count } accounts were skipped: their invitations still work. To replace them, tick "Also send a new link".
}
notice-reset-sent = A password reset link is on its way.
notice-verification-sent = A confirmation link is on its way.
admin-user-mail = E-mail and links
admin-mail-not-configured = No mail relay is set up (HCCC_SSO_SMTP_URL): links wait below for you to hand over.
admin-send-invitation = Send an invitation
admin-send-reset = Send a password reset link
admin-send-verification = Send an address confirmation link
admin-pending-links = Links not sent yet
admin-pending-links-hint = Give a link only to the account's owner: it signs them in. Each works once.
admin-pending-link = { $purpose } to { $to }
admin-pending-link-expires = Works until { $when }.
admin-link-invitation = Invitation
admin-link-reset = Password reset
admin-link-verification = Address confirmation
admin-link-email-change = New address confirmation
admin-send-disabled = This account is disabled: enable it first.
admin-invite-has-password = This account already has a password: send a reset link instead.
admin-send-choice = Choose what to send.
admin-invite-none-selected = Select at least one account, or invite by the filter.
audit-user-invite = Sent invitations
audit-user-accept-invitation = Chose a password from an invitation
audit-user-send-reset = Sent a password reset link
audit-user-request-reset = Asked for a password reset link
audit-user-reset-password = Reset their password from a link
audit-user-send-verification = Sent an address confirmation link
audit-user-verify-email = Confirmed their address
audit-user-request-email-change = Asked to change their address
audit-user-change-email = Changed their address by confirming it
audit-user-cancel-email-change = Cancelled a change of their address
audit-user-end-sessions = Signed out their other sessions
audit-user-revoke-app = Removed an app's access
audit-user-mark-email-verified = Marked an address confirmed
api-email-by-confirmation = The address changes only once the new one is confirmed: POST /api/v1/users/me/email with the new address and your current password.
audit-user-show-links = Printed pending links (command line)

## Second factors (issue 14)
mfa-title = Two-step verification
mfa-lead = Enter the 6-digit code your authenticator app shows for this account.
mfa-code = Code from your authenticator app
mfa-verify = Verify
mfa-use-recovery = Lost your phone? Use a recovery code
mfa-recovery-code = Recovery code
mfa-recovery-hint = One of the ten codes you saved when you set up two-step verification, such as abcde-fghjk. Each works once.
mfa-recovery-submit = Use the recovery code
mfa-code-wrong = That code is not right. Codes change every 30 seconds: enter the one your app shows now.
totp-enrol-title = Set up an authenticator app
totp-enrol-required = Your account must use two-step verification. Set it up now to continue: it takes a minute.
totp-enrol-step-app = Install an authenticator app on your phone if you do not have one: Microsoft Authenticator, Google Authenticator, FreeOTP or Aegis.
totp-enrol-step-scan = In the app, add an account and scan this code.
totp-qr-label = QR code to scan with your authenticator app
totp-enrol-or-type = Cannot scan? Type this key in the app instead (time-based):
totp-open-app = Open in an authenticator app on this device
totp-enrol-step-code = Enter the 6-digit code the app now shows.
totp-enrol-submit = Turn on two-step verification
recovery-title = Your recovery codes
recovery-lead = If you lose your phone, each of these codes lets you sign in once instead of a code from the app.
recovery-once = Write them down or print them, and keep them somewhere safe: they are shown only now. Any earlier codes no longer work.
recovery-continue = I saved my codes, continue
recovery-back = I saved my codes, back to my account
account-factors = Two-step verification
account-factors-required = Your account must use two-step verification.
account-totp = Authenticator app
account-totp-since = Added { $when }
account-totp-last-used = Last used
account-recovery-left = Recovery codes left
account-factors-password = Changes to two-step verification always need your password.
account-recovery-renew = Get new recovery codes
account-totp-replace = Move to a new phone
account-totp-remove = Turn off two-step verification
account-totp-add = Set up an authenticator app
account-totp-added = Two-step verification is on.
account-factor-proved = Your second step is confirmed. For the next 10 minutes you can change your two-step verification settings: try again now.
account-totp-removed = Two-step verification is off.
field-factor_password = Current password
field-code = Code
field-recovery_code = Recovery code
admin-user-factors = Two-step verification
admin-factors-none = not set up
admin-factors-policy = Required
admin-factors-by-role = yes, by the account's role
admin-factors-by-admin = yes, by an admin
admin-factors-optional = no
admin-factors-require = Require two-step verification
admin-factors-unrequire = Stop requiring two-step verification
admin-factors-reset = Reset two-step verification
admin-client-require-mfa = Require two-step verification of everyone who signs in to this app
notice-factors-reset = Two-step verification was reset; the person was told by e-mail.
notice-mfa-required = The account must now use two-step verification.
notice-mfa-unrequired = The account no longer has to use two-step verification (its role may still require it).
audit-user-enrol-totp = Set up an authenticator app
audit-user-remove-totp = Turned off two-step verification
audit-user-renew-recovery-codes = Made new recovery codes
audit-user-use-recovery-code = Signed in with a recovery code
audit-user-reset-factors = Reset a person's two-step verification
audit-user-require-mfa = Required two-step verification of an account
audit-user-unrequire-mfa = Stopped requiring two-step verification of an account
mail-totp-added-subject = Two-step verification is on for your { $college } account
mail-totp-added-body = An authenticator app was set up for your account { $username } on { $when }.
mail-totp-removed-subject = Two-step verification was turned off for your { $college } account
mail-totp-removed-body = Two-step verification was turned off for your account { $username } on { $when }.
mail-recovery-code-used-subject = A recovery code was used for your { $college } account
mail-recovery-code-used-body = Someone signed in to your account { $username } with one of your recovery codes on { $when }. If you lost your phone, set up the app again on your account page.
mail-recovery-codes-renewed-subject = New recovery codes for your { $college } account
mail-recovery-codes-renewed-body = New recovery codes were made for your account { $username } on { $when }; the earlier ones no longer work.
mail-factors-reset-subject = Your { $college } two-step verification was reset
mail-factors-reset-body = An administrator reset two-step verification for your account { $username } on { $when }. If your account must use it, you will set it up again at your next sign-in.

## Passkeys and security keys (issue 14)
login-with-passkey = Sign in with a passkey
passkey-waiting = Follow your browser's steps to use your passkey or security key.
passkey-working = Checking…
passkey-failed = That did not work. Try again, or use another way to sign in.
passkey-expired = The passkey sign-in took too long. Try again.
passkey-refused = That passkey or security key was not accepted. It may have been removed from your account.
passkey-temporary-password = The help desk set a temporary password for this account. Sign in with it and choose a new password first; then your passkey works again.
passkey-needs-script = Passkeys and security keys need JavaScript turned on in your browser.
passkey-kind-missing = Choose whether to add a passkey or a security key.
mfa-lead-key = Use your passkey or security key to finish signing in.
mfa-use-key = Use a passkey or security key
field-webauthn = Passkey or security key
account-passkeys = Passkeys and security keys
account-passkeys-lead = A passkey signs you in without a password, with your phone's or computer's screen lock. A security key (a USB or NFC key) is used after your password.
account-passkeys-none = You have no passkeys or security keys.
account-passkey-unused = Not used yet
account-passkey-remove = Remove { $name }
field-passkey_name = Name for a new passkey or security key
account-passkey-name-hint = Optional, such as "My phone". Without one it is named after this browser.
account-passkey-add = Add a passkey
account-security-key-add = Add a security key
account-kind-passkey = Passkey
account-kind-security-key = Security key
account-passkey-added = Your passkey or security key was added.
account-passkey-removed = The passkey or security key was removed.
account-method-passkey = with a passkey
passkey-name-too-long = The name can be at most 64 characters.
passkey-register-refused = Your browser's answer was not accepted, so nothing was added. Try again.
passkey-register-duplicate = That passkey or security key is already registered.
passkey-register-title = Add a passkey
passkey-register-key-title = Add a security key
passkey-register-lead = Your browser will ask where to save the passkey: this device, your phone, or a password manager. Then confirm with your screen lock.
passkey-register-key-lead = Insert or tap your security key when your browser asks, and touch it.
passkey-register-name = It will be called "{ $name }".
passkey-register-submit = Create the passkey
passkey-register-key-submit = Register the security key
passkey-register-cancel = Cancel and return to my account
audit-user-add-passkey = Added a passkey or security key
audit-user-remove-passkey = Removed a passkey or security key
mail-passkey-added-subject = A passkey was added to your { $college } account
mail-passkey-added-body = A passkey or security key was added to your account { $username } on { $when }.
mail-passkey-removed-subject = A passkey was removed from your { $college } account
mail-passkey-removed-body = A passkey or security key was removed from your account { $username } on { $when }.

## Remember this browser (issue 14)
mfa-remember = { $days ->
    [one] Don't ask for the second step on this browser for a day
   *[other] Don't ask for the second step on this browser for { $days } days
}
mfa-remember-hint = Only on a computer or phone that is yours. Never on a lab or library computer. You can undo it on your account page.
account-remembered = Browsers that skip the second step
account-remembered-lead = These browsers ask only for your password until the date shown.
account-remembered-until = until { $when }
account-remembered-forget = Forget { $device }
account-remembered-forget-all = Forget every browser
account-remembered-forgotten = Those browsers will ask for the second step again.
audit-user-forget-browsers = Forgot browsers remembered for two-step verification
