# Español: trato de usted en todas las páginas (ver SPEC.md). Mismas claves que en/main.ftl.
# Los argumentos se escriben { $nombre }; los números eligen la forma plural.

language-name = Español
language-switcher = Idioma

## Todas las páginas

site-title = Acceso HCCC
college-name = Hudson County Community College
skip-to-content = Ir al contenido principal
footer-service = Un solo acceso para las aplicaciones web de HCCC
footer-help = ¿Necesita ayuda? Comuníquese con la mesa de ayuda de TI.
signed-in-as = Sesión iniciada como { $name }
sign-out = Cerrar sesión
action-back = Volver
action-continue = Continuar
action-save = Guardar
form-has-problems = Corrija lo siguiente e inténtelo de nuevo:
problem-of-field = { $field }: { $problem }

## Inicio de sesión

login-title = Iniciar sesión
login-to-continue = para continuar a { $app }
login-username = Usuario o correo electrónico de HCCC
login-password = Contraseña
login-remember = Mantener la sesión iniciada en este dispositivo
login-remember-hint = No marque esta casilla en una computadora compartida o de laboratorio.
login-submit = Iniciar sesión
login-with-phone = Iniciar sesión con su teléfono (código QR)
login-form-expired = Este formulario había caducado. Vuelva a iniciar sesión.
login-missing = Escriba su usuario y su contraseña.
login-incorrect = El usuario o la contraseña no son correctos.
login-locked = { $minutes ->
    [one] Hubo demasiados intentos fallidos. Por su seguridad, el inicio de sesión está en pausa; inténtelo de nuevo en { $minutes } minuto.
   *[other] Hubo demasiados intentos fallidos. Por su seguridad, el inicio de sesión está en pausa; inténtelo de nuevo en { $minutes } minutos.
}

## Contraseñas

new-password-title = Elija una contraseña nueva
new-password-lead = Inició sesión con una contraseña temporal. Elija una contraseña nueva para continuar.
new-password-submit = Guardar y continuar
password-current = Contraseña actual
password-new = Contraseña nueva
password-again = Repita la contraseña nueva
password-rules = Al menos 12 caracteres. Una frase corta es fácil de recordar y difícil de adivinar.
password-mismatch = Las dos contraseñas nuevas no coinciden.
password-current-incorrect = La contraseña actual no es correcta.
password-current-missing = Escriba su contraseña actual.
account-password-title = Cambie su contraseña
account-password-submit = Cambiar la contraseña
account-password-done = Se cambió su contraseña. Se cerró la sesión en los demás navegadores y aplicaciones que usaban la contraseña anterior.

## Inicio

home-title = Su cuenta
home-signed-in = Ha iniciado sesión
home-lead = Inicie sesión una sola vez para usar las aplicaciones web de HCCC.
home-change-password = Cambiar su contraseña
home-language = Su idioma
home-language-hint = Se usa cuando inicia sesión en un dispositivo nuevo, en los correos de HCCC y en las aplicaciones que lo soliciten.
home-language-none = Sin elegir (usar el idioma del navegador)
home-language-saved = Se guardó su idioma.

## Consentimiento

consent-title = Permitir el acceso
consent-heading = ¿Permitir que { $app } use su cuenta?
consent-asks-for = { $app } solicita:
consent-allow = Permitir
consent-deny = No permitir
consent-remembered = Su respuesta queda guardada para esta aplicación; no se le volverá a preguntar, salvo que solicite algo más.
consent-asked-each-time = Como esta aplicación solicita actuar en su nombre, se le preguntará cada vez.
scope-openid = Confirmar quién es usted (el identificador de su cuenta)
scope-profile = Su nombre y su usuario
scope-email = Su correo electrónico
scope-roles = Sus funciones y grupos en HCCC
scope-offline-access = Mantenerse conectada a su cuenta cuando usted no esté usando la aplicación
scope-api = Actuar en su nombre en la API de Acceso HCCC: administrar su cuenta y, si usted es administrador, el directorio

## Iniciar sesión con el teléfono (código QR) y confirmar códigos (dispositivos)

qr-title = Inicie sesión con su teléfono
qr-lead = Use su teléfono, donde ya inició sesión, para entrar en esta computadora sin escribir su contraseña.
qr-image-label = Código QR para escanear con la cámara de su teléfono
qr-step-camera = Abra la cámara de su teléfono y enfoque el código.
qr-step-approve = Abra el enlace y permita el inicio de sesión en su teléfono.
qr-step-wait = Esta página continuará sola.
qr-no-camera = ¿No tiene cámara? En su teléfono, vaya a { $address } y escriba el código
qr-status-waiting = Esperando su teléfono…
qr-status-approved = Permitido. Iniciando sesión…
qr-status-denied = El inicio de sesión se canceló en el teléfono.
qr-status-expired = Este código caducó.
qr-status-retrying = Se perdió la conexión. Intentando de nuevo…
qr-new-code = Obtener un código nuevo
qr-use-password = Iniciar sesión con su contraseña
device-title = Inicie sesión en otro dispositivo
device-enter-code = Escriba el código que aparece en la otra pantalla.
device-code-label = Código
device-code-invalid = Ese código no es válido o ya caducó. Revise el código de la otra pantalla.
device-asking = { $app } solicita iniciar sesión con su cuenta.
device-asking-qr-app = Una computadora que inicia sesión en { $app } solicita hacerlo con su cuenta.
device-asking-qr = Acceso HCCC, desde otra computadora, solicita iniciar sesión con su cuenta.
device-check-code = Continúe solo si fue usted quien inició este acceso y el código coincide con el de la otra pantalla:
device-computer-warning = Apruebe solo si está frente a esta computadora ahora. Si alguien le envió este código o se lo mostró, elija No: aprobarlo le daría acceso a su cuenta.
device-computer-ip = Dirección de red de la computadora
device-computer-browser = Navegador
device-computer-started = Hora en que se mostró el código
device-unknown-browser = Un navegador desconocido
device-will-see = Podrá ver:
device-allow = Sí, iniciar sesión
device-deny = No, cancelar
device-done-title = Sesión iniciada
device-done-heading = Ya inició sesión en el otro dispositivo
device-done-lead = Puede cerrar esta página. Recuerde cerrar la sesión en las computadoras compartidas cuando termine.
device-cancelled-title = Cancelado
device-cancelled-heading = Inicio de sesión cancelado
device-cancelled-lead = No se inició ninguna sesión. Ya puede cerrar esta página.

## Cerrar sesión

logout-heading = ¿Cerrar la sesión de HCCC?
logout-lead = Inició sesión como { $name }.
logout-lead-app = Inició sesión como { $name }. { $app } solicitó cerrar su sesión.
logout-explain = Al cerrar la sesión, termina su acceso a HCCC en este navegador. Las aplicaciones que use le pedirán que vuelva a iniciar sesión.
logout-stay = Mantener la sesión
logged-out-title = Sesión cerrada
logged-out-heading = Cerró la sesión
logged-out-lead = Salió de Acceso HCCC en este navegador.
logged-out-shared = En una computadora compartida, cierre el navegador para terminar todas las sesiones.
logged-out-again = Volver a iniciar sesión
form-post-title = Regresando a la aplicación
form-post-returning = Regresando a la aplicación…

## Páginas de error

error-reference = Referencia para la mesa de ayuda de TI:
error-home-link = Ir a la página principal de Acceso HCCC
error-not-found-title = No se encontró la página
error-not-found = No hay ninguna página en esta dirección. Revise el enlace o vuelva a empezar desde la aplicación que estaba usando.
error-server-title = Algo salió mal
error-server = El error es nuestro, no suyo. Inténtelo de nuevo en un momento.
error-unavailable-title = El acceso no está disponible
error-unavailable = Acceso HCCC no puede comunicarse con su base de datos en este momento. Inténtelo de nuevo en unos minutos.
error-invalid-form-title = No se pudo leer este formulario
error-form-expired-title = Este formulario caducó
error-form-expired = La página estuvo abierta demasiado tiempo o llegó desde otro sitio. Regrese, vuelva a cargar la página e inténtelo otra vez.
error-sign-in-expired-title = Este inicio de sesión caducó
error-sign-in-expired = Regrese a la aplicación que estaba usando y vuelva a iniciar sesión.
error-already-answered-title = Ya se respondió
error-already-answered = Esta solicitud ya se respondió. Regrese a la aplicación que estaba usando.
error-page-expired-title = Esta página caducó
error-page-expired = Vuelva a iniciar sesión.
error-too-many-starts-title = Demasiados inicios de sesión
error-too-many-starts = Se iniciaron demasiados accesos desde su red. Espere unos minutos e inténtelo de nuevo.
error-too-many-codes-title = Demasiados códigos incorrectos
error-too-many-codes = { $minutes ->
    [one] Se escribieron demasiados códigos incorrectos desde su red. Inténtelo de nuevo en { $minutes } minuto.
   *[other] Se escribieron demasiados códigos incorrectos desde su red. Inténtelo de nuevo en { $minutes } minutos.
}
error-code-used-title = Ese código ya no es válido
error-code-used = Caducó o ya se usó. Vuelva a empezar en la otra pantalla.
error-invalid-link-title = Este enlace de acceso no es válido
error-link-expired-title = Este enlace de acceso caducó
error-link-expired = Regrese a la aplicación y vuelva a iniciar sesión.
error-invalid-request-title = Solicitud de acceso no válida
error-no-redirect-uri = La aplicación no indicó a qué dirección regresar (falta redirect_uri).
error-unregistered-redirect = La aplicación pidió enviarle a una dirección que no tiene registrada; por su seguridad, se detuvo el inicio de sesión.
error-unknown-app-title = Aplicación desconocida
error-no-client-id = La aplicación de la que viene no se identificó (falta client_id).
error-unknown-app = La aplicación de la que viene no está registrada en Acceso HCCC.
error-logout-invalid-title = Esta solicitud para cerrar sesión no es válida
error-logout-foreign-hint = La aplicación envió un token de identidad que este servidor no emitió.
error-logout-other-issuer = La aplicación envió un token de identidad de otro emisor.
error-logout-client-mismatch = El client_id no coincide con el token de identidad.
error-logout-unregistered-redirect = La aplicación pidió enviarle a una dirección que no tiene registrada, así que no se le redirigió.
error-invalid-address-title = Esta dirección no es válida
error-invalid-page = El número de página no es válido.
error-invalid-filter-title = Este filtro no es válido
error-admins-only-title = Solo para administradores
error-admins-only = Su cuenta no tiene la función de administrador. Si la necesita, consulte con la mesa de ayuda de TI.
error-not-changed-title = No se hizo este cambio
error-account-exists = Ya existe una cuenta con este usuario o este correo electrónico.
error-last-admin = No se puede eliminar, desactivar ni quitar la función al último administrador activo.
error-invalid-client-title = La configuración de esta aplicación no es válida
error-invalid-client = Primero corrija la configuración en la página de la aplicación.
error-upload-title = No se pudo leer el archivo enviado
error-upload = Vuelva a elegir el archivo y envíelo otra vez.
error-param-repeated = El parámetro { $name } está repetido.
error-param-too-long = El parámetro { $name } tiene más de { $max } caracteres.
error-param-control = El parámetro { $name } contiene un carácter de control.
error-form-content-type = El formulario no se envió como formulario (application/x-www-form-urlencoded).
error-form-unreadable = No se pudo leer el formulario completo.
forbidden-own-roles = No puede cambiar sus propias funciones.
forbidden-disable-self = No puede desactivar su propia cuenta.
forbidden-delete-self = No puede eliminar su propia cuenta.

## Qué tiene de malo un valor (páginas, la API y la línea de comandos)

invalid-control = contiene un carácter de control
invalid-username = debe tener de 2 a { $max } letras, números, «.», «_» o «-», y empezar con una letra o un número
invalid-email = «{ $value }» no es un correo electrónico válido
invalid-password-short = debe tener al menos { $min } caracteres
invalid-password-long = debe tener como máximo { $max } caracteres
invalid-password-username = no debe contener el usuario
invalid-password-common = esta contraseña figura entre las más filtradas en ataques; elija otra
invalid-role = «{ $value }» no es una función; las funciones son { $roles }
invalid-groups-count = como máximo { $max } grupos
invalid-group = el grupo «{ $value }» debe tener de 1 a { $max } caracteres, sin «;» ni caracteres de control
invalid-name = debe tener como máximo { $max } caracteres, sin caracteres de control
invalid-locale = debe ser uno de estos: { $languages }
invalid-uri-control = no debe contener caracteres de control
invalid-uri-absolute = «{ $value }» no es una URL absoluta
invalid-uri-fragment = «{ $value }» no debe contener un fragmento
invalid-uri-http = «{ $value }» debe usar https (http solo se permite para localhost)
invalid-uri-https = «{ $value }» debe usar https
invalid-uri-long = debe tener como máximo { $max } caracteres
invalid-scope = «{ $value }» no es un alcance; los alcances son { $scopes }
invalid-client-name = debe tener de 1 a { $max } caracteres, sin caracteres de control
invalid-grants-none = se necesita al menos un tipo de concesión
invalid-redirect-none = la concesión authorization_code necesita al menos una URI de redirección
invalid-grants-public = client_credentials necesita un cliente confidencial (un token_endpoint_auth_method distinto de none)
invalid-method-keys = private_key_jwt necesita jwks o jwks_uri
invalid-api-roles-grant = las funciones de API se usan con la concesión client_credentials; agréguela a grant_types
invalid-scopes-openid = una aplicación que inicia sesiones de personas (authorization_code o device_code) necesita openid
invalid-id-token-alg = debe ser RS256 o ES256
invalid-grant = «{ $value }» no es uno de estos: { $grants }
invalid-method = «{ $value }» no es uno de estos: { $methods }
invalid-jwks = no es un documento JWKS
invalid-jwks-large = ocupa más de 64 KiB
invalid-jwks-empty = el JWKS no tiene claves
invalid-jwks-private = contiene una clave privada; registre solo claves públicas
invalid-search = la búsqueda debe tener como máximo { $max } caracteres
invalid-role-filter = elija una de las funciones de la lista
invalid-status-filter = el estado debe ser activa, desactivada o todas
invalid-audit-filter = { $field }: este valor no es válido

## Campos, como los nombran los formularios y el registro de auditoría

field-username = Usuario
field-email = Correo electrónico
field-email_verified = Correo electrónico verificado
field-given_name = Nombre
field-family_name = Apellidos
field-roles = Funciones
field-groups = Grupos
field-password = Contraseña
field-temporary_password = Contraseña temporal
field-current_password = Contraseña actual
field-new_password = Contraseña nueva
field-confirm_password = Repetición de la contraseña nueva
field-recovery_email = Correo de recuperación
field-locale = Idioma
field-disabled = Desactivada
field-name = Nombre
field-redirect_uris = URI de redirección
field-post_logout_redirect_uris = URI de redirección después de cerrar sesión
field-backchannel_logout_uri = URI de cierre de sesión por canal secundario
field-grant_types = Tipos de concesión
field-token_endpoint_auth_method = Autenticación en el punto de conexión de tokens
field-skip_consent = Omitir la página de consentimiento
field-require_par = Exigir solicitudes de autorización enviadas (PAR)
field-allowed_scopes = Alcances que puede solicitar
field-api_roles = Funciones de API
field-jwks = JWKS
field-jwks_uri = URI del JWKS
field-id_token_alg = Algoritmo de firma del token de identidad
field-created = Creadas
field-updated = Actualizadas
field-unchanged = Sin cambios
field-rejected = Rechazadas
field-file = Archivo
field-sessions_ended = Sesiones cerradas
field-grants_ended = Accesos de aplicaciones cerrados
field-skipped = Omitidas (su invitación sigue vigente)
field-resend = Reemplazó invitaciones vigentes
role-admin = Administrador
role-staff = Personal
role-faculty = Docente
role-student = Estudiante
grant-authorization-code = Inicio de sesión desde una aplicación web o móvil (código de autorización)
grant-refresh-token = Mantener la sesión (tokens de actualización)
grant-client-credentials = De servicio a servicio (credenciales de cliente)
grant-device-code = Dispositivos sin teclado (código de dispositivo)
grant-password = Concesión por contraseña (solo para scripts antiguos)

## Administración

admin-nav = Administración
admin-nav-users = Usuarios
admin-nav-import = Importar
admin-nav-clients = Aplicaciones
admin-nav-keys = Claves de firma
admin-nav-audit = Registro de auditoría
admin-nav-docs = Documentación de la API
admin-filter = Filtrar
admin-search = Buscar
admin-role = Función
admin-any-role = Cualquier función
admin-status = Estado
admin-status-all = Todas
admin-status-active = Activa
admin-status-disabled = Desactivada
admin-username = Usuario
admin-name = Nombre
admin-email = Correo electrónico
admin-roles = Funciones
admin-optional = (opcional)
admin-one-per-line = (uno por línea)
admin-confirm-delete-needed = Marque la casilla para confirmar la eliminación.
pager-label = Páginas
pager-previous = Página anterior
pager-next = Página siguiente
pager-position = Página { $page } de { $pages }
notice-created = Creado.
notice-saved = Guardado.
notice-disabled = La cuenta está desactivada: se cerraron sus sesiones y se revocaron sus tokens.
notice-enabled = La cuenta está activada.
notice-password = Se estableció una contraseña temporal. La persona deberá elegir una nueva la próxima vez que inicie sesión.
notice-deleted = Eliminado.
notice-rotated = Se publicaron claves de firma nuevas; empezarán a firmar cuando termine el plazo de publicación.
notice-imported = Importación terminada.
admin-users-title = Usuarios
admin-users-new = Nuevo usuario
admin-users-search-hint = Usuario, correo o nombre
admin-users-count-more = Coinciden más de { $count } usuarios: precise la búsqueda para verlos todos
admin-users-count = { $count ->
    [one] { $count } usuario
   *[other] { $count } usuarios
}
admin-user-created = Creada el { $when }
admin-user-must-change = debe elegir una contraseña nueva la próxima vez que inicie sesión
admin-user-email-verified = El correo electrónico está verificado
admin-user-recovery-hint = (opcional: las invitaciones y los restablecimientos de contraseña se envían aquí)
admin-user-locale-none = Sin elegir
admin-user-own-roles = No puede cambiar sus propias funciones.
admin-user-password-hint = (opcional; al menos 12 caracteres)
admin-user-temporary = Temporal: se debe cambiar en el primer inicio de sesión
admin-user-create = Crear el usuario
admin-user-actions = Acciones de la cuenta
admin-user-enable = Activar la cuenta
admin-user-disable = Desactivar la cuenta
admin-user-disable-hint = Al desactivarla, se cierran de inmediato las sesiones de la persona y se revocan los tokens de sus aplicaciones.
admin-user-temporary-password = Contraseña temporal nueva
admin-user-set-temporary = Asignar una contraseña temporal
admin-user-temporary-hint = Se cierran las sesiones de la persona, que deberá elegir una contraseña nueva la próxima vez que inicie sesión.
admin-user-confirm-delete = Eliminar a { $name } y todo lo que se le emitió
admin-user-delete = Eliminar la cuenta
admin-user-status-choice = Elija activar o desactivar la cuenta.
admin-clients-title = Aplicaciones
admin-clients-new = Registrar una aplicación
admin-client-id = ID de cliente
admin-client-secret = Secreto de cliente
admin-grants = Qué puede hacer
admin-consent = Consentimiento
admin-consent-asked = Se pide a cada persona
admin-consent-skipped = Se omite (aplicación de confianza de HCCC)
admin-client-name-hint = (se muestra a las personas en las páginas de inicio de sesión y de consentimiento)
admin-client-redirect-hint = (una por línea; deben coincidir exactamente)
admin-client-scopes-hint = (lo que la aplicación puede solicitar; la persona igual da su consentimiento)
admin-client-skip-consent = Aplicación de confianza de HCCC: no pedir consentimiento a las personas (nunca para el alcance api)
admin-client-require-par = Exigir solicitudes de autorización enviadas (PAR)
admin-client-api-roles-hint = (los permisos de los tokens de API propios de la aplicación)
admin-client-register = Registrar la aplicación
admin-client-actions = Acciones de la aplicación
admin-client-rotate = Emitir un secreto nuevo
admin-client-rotate-hint = El secreto anterior deja de funcionar de inmediato.
admin-client-confirm-delete = Sí, eliminar { $name } y cerrar todos los accesos hechos con ella
admin-client-delete = Eliminar la aplicación
admin-secret-once = Copie el secreto ahora: solo se muestra esta vez.
admin-secret-none = Esta aplicación no tiene secreto: es un cliente público o firma sus solicitudes con su propia clave.
admin-secret-back = Volver a la aplicación
admin-keys-title = Claves de firma
admin-keys-caption = Claves de firma publicadas, de la más nueva a la más antigua
admin-key-id = ID de la clave
admin-key-alg = Algoritmo
admin-key-state = Estado
admin-key-created = Creada
admin-key-signs-from = Firma desde
admin-key-retired = Retirada
admin-key-signing = firmando
admin-key-published = publicada, todavía no firma
admin-key-verifying = publicada, solo para verificar
admin-keys-rotate = Renovar las claves de firma
admin-keys-rotate-hint = Las claves nuevas se publican de inmediato y empiezan a firmar al terminar el plazo de publicación, para que las aplicaciones las tengan antes de verlas en uso.
admin-import-title = Importar usuarios
admin-import-lead = Suba la exportación CSV del sistema de información estudiantil. Sus columnas:
admin-import-rules = Las cuentas se emparejan por usuario: las nuevas se crean, las existentes se actualizan, y si importa dos veces el mismo archivo, la segunda vez no cambia nada. No se escribe nada hasta que revise la prueba, y entonces se importan todas las filas o ninguna.
admin-import-file = Archivo CSV
admin-import-check = Revisar el archivo (prueba sin cambios)
admin-import-dry-run = Prueba sin cambios
admin-import-summary = Para crear: { $created }; para actualizar: { $updated }; sin cambios: { $unchanged }; rechazadas: { $rejected }.
admin-import-new-accounts = Cuentas nuevas
admin-import-changed-accounts = Cuentas que cambian
admin-import-line = Línea { $line }: { $username }
admin-import-more = { $count ->
    [one] y { $count } más
   *[other] y { $count } más
}
admin-import-now = Importar ahora
admin-import-rejected = Filas rechazadas
admin-import-line-number = Línea
admin-import-reason = Problemas
admin-import-choose-file = Elija un archivo CSV para importar.
admin-import-rows-rejected = { $count ->
    [one] No se puede importar { $count } fila. No se escribió nada: corrija el archivo y vuelva a revisarlo.
   *[other] No se pueden importar { $count } filas. No se escribió nada: corrija el archivo y vuelva a revisarlo.
}
import-too-large = el archivo ocupa más de { $mib } MiB
import-bad-header = no se puede leer la línea de encabezado
import-unknown-column = la columna «{ $column }» no existe; las columnas son { $columns }
import-repeated-column = la columna «{ $column }» aparece dos veces
import-missing-column = el encabezado debe incluir una columna { $column }
import-bad-line = la línea { $line } no es CSV válido
import-too-many-rows = hay más de { $max } filas; divida el archivo
import-repeated-username = el usuario aparece antes en el archivo
import-repeated-email = el correo electrónico aparece antes en el archivo
import-email-taken = el correo electrónico pertenece a otra cuenta
import-admin-role = la función de administrador no se puede dar por importación; se asigna en la página del usuario
import-admin-role-change = la importación no puede dar ni quitar la función de administrador; se cambia en la página del usuario
admin-audit-title = Registro de auditoría
admin-audit-filters = Filtrar el registro de auditoría
admin-audit-actor = Quién
admin-audit-target = Sobre quién o qué (nombre o ID)
admin-audit-action = Qué
admin-audit-any-action = Cualquier cambio
admin-audit-from = Desde
admin-audit-to = Hasta
admin-audit-dates = Fechas
admin-audit-clear = Mostrar todas las entradas
admin-audit-count-more = Más de { $count } entradas, de la más reciente a la más antigua: precise la búsqueda para verlas todas
admin-audit-count = { $count ->
    [one] { $count } entrada, de la más reciente a la más antigua
   *[other] { $count } entradas, de la más reciente a la más antigua
}
admin-audit-when = Cuándo
admin-audit-who = Quién
admin-audit-what = Qué
admin-audit-concerning = Sobre
admin-audit-changes = Detalles
admin-audit-from-address = Desde la dirección
admin-yes = Sí
admin-no = No
admin-audit-changed = { $before } → { $after }
audit-actor-user = { $name } (cuenta { $id })
audit-actor-client = { $name } (aplicación { $id })
audit-actor-cli = La línea de comandos del servidor
audit-actor-cli-user = La línea de comandos del servidor, como { $name } (id de usuario { $id })
audit-actor-other = { $name }
audit-unknown-action = { $action }
audit-user-create = Creó una cuenta
audit-user-update = Cambió una cuenta
audit-user-update-profile = Cambió su propio perfil
audit-user-disable = Desactivó una cuenta
audit-user-enable = Activó una cuenta
audit-user-set-temporary-password = Asignó una contraseña temporal
audit-user-change-password = Cambió su propia contraseña
audit-user-delete = Eliminó una cuenta
audit-user-import = Importó cuentas desde un archivo
audit-client-create = Registró una aplicación
audit-client-update = Cambió una aplicación
audit-client-rotate-secret = Emitió un secreto de aplicación nuevo
audit-client-delete = Eliminó una aplicación
audit-keys-rotate = Renovó las claves de firma
audit-database-migrate = Aplicó las migraciones de la base de datos

## Correos electrónicos

mail-greeting = Hola, { $name }:
mail-footer = { $college } · Enviado por el servicio de acceso de HCCC. Recibe este mensaje por su cuenta; no contiene ningún seguimiento.
mail-link-fallback = Si el botón no funciona, copie esta dirección en su navegador:
mail-link-expires = El enlace funciona una sola vez y hasta el { $when }.
mail-not-you = Si no fue usted, restablezca su contraseña desde la página de inicio de sesión y comuníquese con la mesa de ayuda de TI.
mail-invitation-subject = Configure su cuenta de { $college }
mail-invitation-body = Se creó una cuenta para usted en { $college } (usuario { $username }). Elija su contraseña para empezar a usar las aplicaciones web de la institución.
mail-invitation-button = Elegir su contraseña
mail-reset-subject = Restablezca su contraseña de { $college }
mail-reset-body = Alguien, esperamos que usted, pidió restablecer la contraseña de su cuenta { $username }.
mail-reset-button = Elegir una contraseña nueva
mail-reset-expires = { $minutes ->
    [one] El enlace funciona una sola vez, durante { $minutes } minuto.
   *[other] El enlace funciona una sola vez, durante { $minutes } minutos.
}
mail-reset-ignore = Si no lo pidió, no haga caso de este mensaje: su contraseña no cambia.
mail-confirm-subject = Confirme su correo electrónico para { $college }
mail-confirm-body = Confirme que { $address } es la dirección de su cuenta { $username }.
mail-confirm-button = Confirmar mi dirección
mail-address-changing-subject = El correo electrónico de su cuenta de { $college } va a cambiar
mail-address-changing-body = Se indicó una dirección nueva, { $address }, para su cuenta { $username }. Esta dirección se sigue usando hasta que se confirme la nueva.
mail-address-changed-subject = El correo electrónico de su cuenta de { $college } cambió
mail-address-changed-body = La dirección de su cuenta { $username } cambió a { $address } el { $when }. Los mensajes de la cuenta, como los enlaces para restablecer la contraseña, van ahora a esa dirección.
mail-address-changed-not-you = Si no fue usted, comuníquese de inmediato con la mesa de ayuda de TI.
mail-password-changed-subject = Se cambió su contraseña de { $college }
mail-password-changed-body = La contraseña de su cuenta { $username } se cambió el { $when }. Se cerraron sus demás sesiones y los accesos de sus aplicaciones.

## Enlaces por correo, "¿Olvidó su contraseña?" y la página de la cuenta
link-invalid-title = Este enlace no funciona
link-invalid = El enlace venció, ya se usó o se envió uno más reciente. Pida uno nuevo desde la página de inicio de sesión ("¿Olvidó su contraseña?") o a la Mesa de Ayuda de TI.
confirm-address-taken = Esta dirección ahora pertenece a otra cuenta, así que no se puede confirmar para la suya.
forgot-throttled-title = Demasiadas solicitudes
forgot-throttled = { $minutes ->
    [one] Llegaron demasiadas solicitudes de restablecimiento desde su red. Inténtelo de nuevo en { $minutes } minuto, o comuníquese con la Mesa de Ayuda de TI.
   *[other] Llegaron demasiadas solicitudes de restablecimiento desde su red. Inténtelo de nuevo en { $minutes } minutos, o comuníquese con la Mesa de Ayuda de TI.
}
mail-throttled-title = Demasiados correos solicitados
mail-throttled = { $minutes ->
    [one] Se pidieron demasiados correos de este tipo en la última hora; inténtelo de nuevo en { $minutes } minuto.
   *[other] Se pidieron demasiados correos de este tipo en la última hora; inténtelo de nuevo en { $minutes } minutos.
}
welcome-title = Bienvenido: elija su contraseña
welcome-lead = Su nombre de usuario es { $username }. Elija una contraseña para terminar de configurar su cuenta.
welcome-submit = Guardar mi contraseña e iniciar sesión
reset-title = Elija una contraseña nueva
reset-lead = Elija una contraseña nueva para su cuenta { $username }. Se cerrarán sus demás sesiones y los accesos de sus aplicaciones.
reset-submit = Guardar mi contraseña nueva
forgot-title = ¿Olvidó su contraseña?
forgot-lead = Escriba su nombre de usuario o su correo electrónico. Si coincide con una cuenta, le enviaremos un enlace para elegir una contraseña nueva.
forgot-login = Nombre de usuario o correo electrónico
forgot-submit = Enviarme un enlace
forgot-missing = Escriba su nombre de usuario o su correo electrónico.
forgot-sent = Si coincide con una cuenta, enviamos un enlace a su correo electrónico. El enlace funciona una sola vez, durante { $minutes ->
    [one] un minuto
   *[other] { $minutes } minutos
}.
forgot-sent-next = Revise su bandeja de entrada y la carpeta de correo no deseado. ¿No llega nada en unos minutos? Revise lo que escribió y vuelva a intentarlo, o comuníquese con la Mesa de Ayuda de TI.
forgot-back = Volver a iniciar sesión
confirm-title = Confirme su correo electrónico
confirm-lead = Confirme que { $address } es la dirección de su cuenta.
confirm-submit = Confirmar esta dirección
confirm-done = Gracias: { $address } es ahora la dirección confirmada de su cuenta.
login-forgot = ¿Olvidó su contraseña?
login-manage-account = Administrar su cuenta
home-manage-account = Su cuenta: sesiones, aplicaciones y actividad
account-title = Su cuenta
account-profile = Nombre e idioma
account-security = Inicio de sesión y correo electrónico
account-email-verified = confirmado
account-email-unverified = sin confirmar
account-email-pending = En espera de confirmación
account-send-verification = Enviarme un enlace de confirmación
account-new-email = Nuevo correo electrónico
account-new-email-hint = Enviamos un enlace de confirmación a la dirección nueva; su dirección actual se sigue usando hasta que lo abra.
account-reauthenticate = Escriba su contraseña actual para hacer este cambio.
totp-enrol-password-hint = Escriba también su contraseña actual: activar la verificación en dos pasos cambia la forma de iniciar sesión en su cuenta.
account-change-email = Cambiar mi correo electrónico
account-email-cancel = Cancelar este cambio
account-email-cancelled = Se canceló el cambio de dirección: su enlace de confirmación ya no funciona.
account-sessions = Dónde tiene la sesión iniciada
account-device = Navegador y sistema
account-ip = Dirección
account-signed-in-at = Inicio de sesión
account-last-seen = Última actividad
account-actions = Acciones
account-this-browser = Este navegador
account-end-session = Cerrar esa sesión
account-end-session-detail = ({ $device }, iniciada el { $at })
account-end-others = Cerrar todas las demás sesiones
account-apps = Aplicaciones que autorizó
account-apps-none = Ninguna aplicación tiene acceso a su cuenta.
account-app-since = Desde el { $when }. Puede:
account-revoke = Quitar el acceso
account-revoke-detail = ({ $app })
account-activity = Actividad reciente de inicio de sesión
account-when = Cuándo
account-result = Resultado
account-device-unknown = Navegador desconocido
account-method-password = con contraseña
account-method-qr = con un teléfono (código QR)
account-method-invitation = desde un enlace de invitación
account-method-reset = desde un enlace de restablecimiento
account-method-reauthentication = contraseña escrita de nuevo
account-method-password-grant = por una aplicación, con contraseña
account-method-api = mediante la API
account-result-succeeded = Sesión iniciada
account-result-failed = Contraseña incorrecta
account-result-locked = En pausa tras demasiados intentos
account-saved = Se guardaron sus cambios.
account-email-sent = Enviamos un enlace de confirmación a la dirección nueva y un aviso a la actual.
account-verification-sent = Enviamos un enlace de confirmación a su dirección.
account-session-ended = Se cerró esa sesión y se avisó a sus aplicaciones.
account-sessions-ended = Se cerraron todas las demás sesiones y se avisó a sus aplicaciones.
account-app-revoked = Se quitó el acceso de la aplicación: ya no puede actuar en su nombre.
account-email-same = Esta ya es su dirección.
account-unknown-item = Este elemento ya no está en su cuenta. Vuelva a cargar la página.

## Administración: invitaciones, enlaces y correo
admin-select = Seleccionar
admin-select-user = Seleccionar a { $username }
admin-no-password = aún sin contraseña
admin-invite-selected = Invitar a las cuentas seleccionadas
admin-invite-heading = Invitaciones
admin-invite-hint = Una invitación envía por correo un enlace para elegir una contraseña (a la dirección de recuperación, si la hay). Se omiten las cuentas que ya tienen contraseña, y también las que tienen una invitación vigente, salvo que elija enviarles un enlace nuevo: este anula el que ya tienen.
admin-invite-resend = Enviar también un enlace nuevo a las cuentas con una invitación vigente (su enlace anterior dejará de funcionar)
admin-invite-filtered = Invitar a las cuentas que coinciden con este filtro
admin-invite-all = Invitar a todas las cuentas sin contraseña
notice-invited = { $count ->
    [0] Ninguna cuenta necesitaba invitación: todas tienen ya contraseña.
    [one] Se está enviando una invitación.
   *[other] Se están enviando { $count } invitaciones.
}
notice-invited-one = Se está enviando la invitación.
notice-invite-skipped = { $count ->
    [one] Se omitió una cuenta: su invitación sigue vigente. Para reemplazarla, marque «Enviar también un enlace nuevo».
   *[other] Se omitieron { $count } cuentas: sus invitaciones siguen vigentes. Para reemplazarlas, marque «Enviar también un enlace nuevo».
}
notice-reset-sent = Se está enviando un enlace para restablecer la contraseña.
notice-verification-sent = Se está enviando un enlace de confirmación.
admin-user-mail = Correo y enlaces
admin-mail-not-configured = No hay un servidor de correo configurado (HCCC_SSO_SMTP_URL): los enlaces esperan aquí abajo para que usted los entregue.
admin-send-invitation = Enviar una invitación
admin-send-reset = Enviar un enlace para restablecer la contraseña
admin-send-verification = Enviar un enlace para confirmar la dirección
admin-pending-links = Enlaces aún no enviados
admin-pending-links-hint = Entregue un enlace solo a la persona dueña de la cuenta: le da acceso. Cada uno funciona una sola vez.
admin-pending-link = { $purpose } para { $to }
admin-pending-link-expires = Funciona hasta el { $when }.
admin-link-invitation = Invitación
admin-link-reset = Restablecimiento de contraseña
admin-link-verification = Confirmación de dirección
admin-link-email-change = Confirmación de la dirección nueva
admin-send-disabled = Esta cuenta está desactivada: primero vuelva a activarla.
admin-invite-has-password = Esta cuenta ya tiene contraseña: envíe un enlace de restablecimiento.
admin-send-choice = Elija qué enviar.
admin-invite-none-selected = Seleccione al menos una cuenta, o invite según el filtro.
audit-user-invite = Envió invitaciones
audit-user-accept-invitation = Eligió una contraseña desde una invitación
audit-user-send-reset = Envió un enlace para restablecer la contraseña
audit-user-request-reset = Pidió un enlace para restablecer la contraseña
audit-user-reset-password = Restableció su contraseña desde un enlace
audit-user-send-verification = Envió un enlace para confirmar la dirección
audit-user-verify-email = Confirmó su dirección
audit-user-request-email-change = Pidió cambiar su dirección
audit-user-change-email = Cambió su dirección al confirmarla
audit-user-cancel-email-change = Canceló un cambio de su dirección
audit-user-end-sessions = Cerró sus demás sesiones
audit-user-revoke-app = Quitó el acceso de una aplicación
audit-user-mark-email-verified = Marcó una dirección como confirmada
api-email-by-confirmation = La dirección cambia solo cuando se confirma la nueva: envíe la dirección nueva y su contraseña actual a /api/v1/users/me/email.
audit-user-show-links = Mostró enlaces pendientes (línea de comandos)

## Second factors (issue 14)
mfa-title = Verificación en dos pasos
mfa-lead = Escriba el código de 6 dígitos que su aplicación de autenticación muestra para esta cuenta.
mfa-code = Código de su aplicación de autenticación
mfa-verify = Verificar
mfa-use-recovery = ¿Perdió su teléfono? Use un código de recuperación
mfa-recovery-code = Código de recuperación
mfa-recovery-hint = Uno de los diez códigos que guardó al activar la verificación en dos pasos, como { "abcde-fghjk" }. Cada uno sirve una vez.
mfa-recovery-submit = Usar el código de recuperación
mfa-code-wrong = Ese código no es correcto. Los códigos cambian cada 30 segundos: escriba el que muestra su aplicación ahora.
totp-enrol-title = Configurar una aplicación de autenticación
totp-enrol-required = Su cuenta debe usar la verificación en dos pasos. Configure una aplicación de autenticación ahora para continuar: toma un minuto.
totp-enrol-step-app = Si no tiene una, instale una aplicación de autenticación en su teléfono: Microsoft Authenticator, Google Authenticator, FreeOTP o Aegis.
totp-enrol-step-scan = En la aplicación, agregue una cuenta y escanee este código.
totp-qr-label = Código QR para escanear con su aplicación de autenticación
totp-enrol-or-type = ¿No puede escanear? Escriba esta clave en la aplicación (basada en tiempo):
totp-open-app = Abrir en una aplicación de autenticación de este dispositivo
totp-enrol-step-code = Escriba el código de 6 dígitos que la aplicación muestra ahora.
totp-enrol-submit = Activar la verificación en dos pasos
recovery-title = Sus códigos de recuperación
recovery-lead = Si pierde su teléfono, cada uno de estos códigos le permite iniciar sesión una vez en lugar de un código de la aplicación.
recovery-once = Anótelos o imprima esta página y guarde los códigos en un lugar seguro: solo se muestran ahora. Los códigos anteriores ya no sirven.
recovery-continue = Guardé mis códigos, continuar
recovery-back = Guardé mis códigos, volver a mi cuenta
account-factors = Verificación en dos pasos
account-factors-required = Su cuenta debe usar la verificación en dos pasos.
account-totp = Aplicación de autenticación
account-totp-since = Agregada el { $when }
account-totp-last-used = Último uso
account-recovery-left = Códigos de recuperación restantes
account-factors-password = Los cambios en la verificación en dos pasos siempre piden su contraseña.
account-recovery-renew = Obtener nuevos códigos de recuperación
account-totp-replace = Pasar a un teléfono nuevo
account-totp-remove = Desactivar la verificación en dos pasos
account-totp-add = Configurar una aplicación de autenticación
account-totp-added = La verificación en dos pasos está activada.
account-factor-proved = Su segundo paso quedó confirmado. Durante los próximos 10 minutos puede cambiar la configuración de la verificación en dos pasos: inténtelo de nuevo ahora.
account-totp-removed = La verificación en dos pasos está desactivada.
field-factor_password = Contraseña actual
field-code = Código
field-recovery_code = Código de recuperación
admin-user-factors = Verificación en dos pasos
admin-factors-none = no configurada
admin-factors-policy = Obligatoria
admin-factors-by-role = sí, por el rol de la cuenta
admin-factors-by-admin = sí, por un administrador
admin-factors-optional = no
admin-factors-require = Exigir la verificación en dos pasos
admin-factors-unrequire = Dejar de exigir la verificación en dos pasos
admin-factors-reset = Restablecer la verificación en dos pasos
admin-client-require-mfa = Exigir la verificación en dos pasos a todos los que inicien sesión en esta aplicación
notice-factors-reset = Se restableció la verificación en dos pasos; se avisó a la persona por correo.
notice-mfa-required = La cuenta ahora debe usar la verificación en dos pasos.
notice-mfa-unrequired = La cuenta ya no tiene que usar la verificación en dos pasos (su rol aún puede exigirla).
audit-user-enrol-totp = Configuró una aplicación de autenticación
audit-user-remove-totp = Desactivó la verificación en dos pasos
audit-user-renew-recovery-codes = Generó nuevos códigos de recuperación
audit-user-use-recovery-code = Inició sesión con un código de recuperación
audit-user-reset-factors = Restableció la verificación en dos pasos de una persona
audit-user-require-mfa = Exigió la verificación en dos pasos a una cuenta
audit-user-unrequire-mfa = Dejó de exigir la verificación en dos pasos a una cuenta
mail-totp-added-subject = La verificación en dos pasos está activada en su cuenta de { $college }
mail-totp-added-body = Se configuró una aplicación de autenticación para su cuenta { $username } el { $when }.
mail-totp-removed-subject = Se desactivó la verificación en dos pasos de su cuenta de { $college }
mail-totp-removed-body = Se desactivó la verificación en dos pasos de su cuenta { $username } el { $when }.
mail-recovery-code-used-subject = Se usó un código de recuperación en su cuenta de { $college }
mail-recovery-code-used-body = Alguien inició sesión en su cuenta { $username } con uno de sus códigos de recuperación el { $when }. Si perdió su teléfono, vuelva a configurar la aplicación en la página de su cuenta.
mail-recovery-codes-renewed-subject = Nuevos códigos de recuperación para su cuenta de { $college }
mail-recovery-codes-renewed-body = Se generaron nuevos códigos de recuperación para su cuenta { $username } el { $when }; los anteriores ya no sirven.
mail-factors-reset-subject = Se restableció su verificación en dos pasos de { $college }
mail-factors-reset-body = Un administrador restableció la verificación en dos pasos de su cuenta { $username } el { $when }. Si su cuenta debe usarla, la configurará de nuevo en su próximo inicio de sesión.

## Passkeys and security keys (issue 14)
login-with-passkey = Iniciar sesión con una llave de acceso
passkey-waiting = Siga los pasos de su navegador para usar su llave de acceso o llave de seguridad.
passkey-working = Comprobando…
passkey-failed = Eso no funcionó. Inténtelo de nuevo o use otra forma de iniciar sesión.
passkey-expired = El inicio de sesión con la llave de acceso tardó demasiado. Inténtelo de nuevo.
passkey-refused = No se aceptó esa llave de acceso o llave de seguridad. Es posible que se haya quitado de su cuenta.
passkey-temporary-password = La mesa de ayuda le asignó una contraseña temporal a esta cuenta. Primero inicie sesión con ella y elija una contraseña nueva; después su llave de acceso volverá a funcionar.
passkey-needs-script = Las llaves de acceso y las llaves de seguridad necesitan que JavaScript esté activado en su navegador.
passkey-kind-missing = Elija si quiere agregar una llave de acceso o una llave de seguridad.
mfa-lead-key = Use su llave de acceso o llave de seguridad para terminar de iniciar sesión.
mfa-use-key = Usar una llave de acceso o llave de seguridad
field-webauthn = Llave de acceso o llave de seguridad
account-passkeys = Llaves de acceso y llaves de seguridad
account-passkeys-lead = Una llave de acceso inicia su sesión sin contraseña, con el bloqueo de pantalla de su teléfono o computadora. Una llave de seguridad (una llave USB o NFC) se usa después de su contraseña.
account-passkeys-none = No tiene llaves de acceso ni llaves de seguridad.
account-passkey-unused = Todavía sin usar
account-passkey-remove = Quitar { $name }
field-passkey_name = Nombre para una nueva llave de acceso o llave de seguridad
account-passkey-name-hint = Opcional, como "Mi teléfono". Sin nombre, se llama como este navegador.
account-passkey-add = Agregar una llave de acceso
account-security-key-add = Agregar una llave de seguridad
account-kind-passkey = Llave de acceso
account-kind-security-key = Llave de seguridad
account-passkey-added = Se agregó su llave de acceso o llave de seguridad.
account-passkey-removed = Se quitó la llave de acceso o llave de seguridad.
account-method-passkey = con una llave de acceso
passkey-name-too-long = El nombre puede tener como máximo 64 caracteres.
passkey-register-refused = No se aceptó la respuesta de su navegador, así que no se agregó nada. Inténtelo de nuevo.
passkey-register-duplicate = Esa llave de acceso o llave de seguridad ya está registrada.
passkey-register-title = Agregar una llave de acceso
passkey-register-key-title = Agregar una llave de seguridad
passkey-register-lead = Su navegador le preguntará dónde guardar la llave de acceso: este dispositivo, su teléfono o un administrador de contraseñas. Luego confirme con su bloqueo de pantalla.
passkey-register-key-lead = Inserte o acerque su llave de seguridad cuando su navegador lo pida, y tóquela.
passkey-register-name = Se llamará "{ $name }".
passkey-register-submit = Crear la llave de acceso
passkey-register-key-submit = Registrar la llave de seguridad
passkey-register-cancel = Cancelar y volver a mi cuenta
audit-user-add-passkey = Agregó una llave de acceso o llave de seguridad
audit-user-remove-passkey = Quitó una llave de acceso o llave de seguridad
mail-passkey-added-subject = Se agregó una llave de acceso a su cuenta de { $college }
mail-passkey-added-body = Se agregó una llave de acceso o llave de seguridad a su cuenta { $username } el { $when }.
mail-passkey-removed-subject = Se quitó una llave de acceso de su cuenta de { $college }
mail-passkey-removed-body = Se quitó una llave de acceso o llave de seguridad de su cuenta { $username } el { $when }.

## Remember this browser (issue 14)
mfa-remember = { $days ->
    [one] No pedir el segundo paso en este navegador durante un día
   *[other] No pedir el segundo paso en este navegador durante { $days } días
}
mfa-remember-hint = Solo en una computadora o teléfono que sea suyo. Nunca en una computadora de un laboratorio o de la biblioteca. Puede cambiar esto en la página de su cuenta.
account-remembered = Navegadores que omiten el segundo paso
account-remembered-lead = Estos navegadores solo piden su contraseña hasta la fecha indicada.
account-remembered-until = hasta el { $when }
account-remembered-forget = Olvidar { $device }
account-remembered-forget-all = Olvidar todos los navegadores
account-remembered-forgotten = Esos navegadores volverán a pedir el segundo paso.
audit-user-forget-browsers = Olvidó navegadores recordados para la verificación en dos pasos
