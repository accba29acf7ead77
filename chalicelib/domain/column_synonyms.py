"""The synonym table behind auto_map: header phrases for each lead field, by rank.

Data only (see column_mapping.py for how it is used): a lower rank wins a
conflict, and the target None names well-known columns that are not lead fields.
"""

from __future__ import annotations

from typing import Final

# target -> {rank: phrases}. A lower rank wins a conflict. Target None: a known
# column that is not a lead field (it stays a custom field and keeps typos of
# it from being read as a lead field).
SYNONYM_TABLE: Final[dict[str | None, dict[int, tuple[str, ...]]]] = {
    "first_name": {0: (
        "first name", "firstname", "first", "given name", "forename", "fname", "first names",
        "contact first name", "person first name", "lead first name", "prénom", "prenom",
        "vorname", "nombre", "primer nombre", "nome", "nombre de pila",
    )},
    "last_name": {0: (
        "last name", "lastname", "last", "surname", "family name", "lname",
        "contact last name", "person last name", "lead last name", "nom", "nom de famille",
        "nachname", "familienname", "apellido", "apellidos", "primer apellido", "sobrenome",
        "cognome",
    )},
    "full_name": {0: (
        "name", "full name", "contact name", "contact", "contact full name", "person name",
        "lead name", "prospect name", "display name", "nom complet", "nom et prénom",
        "prénom et nom", "prénom nom", "vollständiger name", "nombre completo",
        "nombre y apellidos",
    )},
    "email": {
        0: ("email", "e-mail", "mail", "email address", "e-mail address", "mail address",
            "email addr", "primary email", "primary email address", "main email",
            "contact email", "lead email", "person email", "email primary", "courriel",
            "adresse email", "adresse e-mail", "adresse mail", "adresse électronique",
            "adresse courriel", "e-mail-adresse", "emailadresse", "mailadresse", "correo",
            "correo electrónico", "dirección de correo", "dirección de correo electrónico",
            "email de contacto"),
        1: ("work email", "work email address", "business email", "professional email",
            "company email", "personal email", "personal email address", "private email",
            "direct email", "email work", "email personal", "email home", "home email",
            "e-mail geschäftlich", "e-mail privat", "email professionnel",
            "email personnel"),
        2: ("secondary email", "second email", "other email", "alternate email",
            "alternative email", "alt email", "additional email", "backup email",
            "tertiary email", "third email", "other email address",
            "secondary email address", "alternate email address", "email other"),
    },
    "emails": {3: (
        "emails", "email addresses", "e-mails", "other emails", "additional emails",
        "alternate emails", "alternative emails", "all emails", "secondary emails",
    )},
    "phone": {
        0: ("phone", "phone number", "phone no", "phone nr", "phone num", "telephone",
            "telephone number", "telephone no", "tel", "tel no", "tel number",
            "primary phone", "primary phone number", "main phone", "contact number",
            "contact phone", "contact phone number", "téléphone", "numéro de téléphone",
            "numéro", "telefon", "telefonnummer", "teléfono", "número de teléfono",
            "telefono", "phone primary"),
        1: ("mobile", "mobile phone", "mobile phone number", "mobile number", "mobile no",
            "mobile tel", "cell", "cell phone", "cellphone number", "cell number",
            "cell phone number", "work phone", "work phone number", "work direct phone",
            "direct phone", "direct phone number", "direct dial", "direct line",
            "corporate phone", "company phone", "office phone", "business phone",
            "home phone", "personal phone", "landline", "phone work", "phone mobile",
            "phone home", "phone direct", "portable", "téléphone portable",
            "tel portable", "téléphone mobile", "mobil", "mobilnummer", "mobiltelefon",
            "handy", "handynummer", "telefon geschäftlich", "telefon privat", "móvil",
            "celular", "teléfono móvil", "whatsapp", "whatsapp number"),
        2: ("other phone", "secondary phone", "second phone", "alternate phone",
            "alternative phone", "alt phone", "additional phone", "backup phone",
            "other phone number", "secondary phone number", "alternate phone number",
            "phone other"),
    },
    "phones": {3: (
        "phones", "phone numbers", "other phones", "additional phones", "alternate phones",
        "all phones", "telephones", "telephone numbers",
    )},
    "company": {
        0: ("company", "company name", "organisation", "organization", "organisation name",
            "organization name", "org", "org name", "account", "account name",
            "company / account", "business name", "company account", "société", "nom de la société",
            "entreprise", "nom de l'entreprise", "raison sociale", "firma", "firmenname",
            "unternehmen", "empresa", "nombre de la empresa", "compañía"),
        1: ("current company", "current company name", "employer", "employer name",
            "current employer", "business", "firm", "company name for emails"),
    },
    "job_title": {
        0: ("job title", "title", "position", "role", "job role", "job position", "job",
            "occupation", "designation", "current title", "current job title",
            "current position", "contact title", "person title", "poste", "fonction",
            "intitulé de poste", "intitulé du poste", "titre", "berufsbezeichnung",
            "jobbezeichnung", "cargo", "puesto"),
        2: ("headline", "linkedin headline", "profile headline"),
    },
    "linkedin_url": {
        0: ("linkedin", "linkedin url", "linkedin profile", "linkedin profile url",
            "linkedin link", "linkedin profile link", "person linkedin url",
            "person linkedin", "linkedin address", "linkedin page", "li url",
            "contact linkedin url", "url linkedin", "profil linkedin", "lien linkedin",
            "linkedin profil", "perfil de linkedin", "perfil linkedin"),
        1: ("profile url", "profile link", "public profile url", "public linkedin url",
            "linkedin public url", "default profile url"),
    },
    "location": {
        0: ("location", "person location", "contact location", "localisation", "lieu",
            "ubicación", "standort"),
        1: ("full address", "complete address"),
        2: ("city", "town", "mailing city", "person city", "contact city", "ville",
            "stadt", "ort", "ciudad", "localidad"),
        3: ("address", "street address", "street", "mailing address", "mailing street",
            "address line", "postal address", "adresse", "anschrift", "straße",
            "dirección"),
        4: ("state", "state/region", "region", "province", "state/province",
            "mailing state", "mailing state/province", "état", "région", "bundesland",
            "provincia"),
        5: ("country", "country/region", "mailing country", "person country", "pays",
            "land", "país"),
    },
    "notes": {
        0: ("notes", "note", "comments", "comment", "remarks", "remark", "memo", "notizen",
            "notiz", "bemerkungen", "bemerkung", "kommentar", "kommentare", "commentaire",
            "commentaires", "remarques", "notas", "nota", "comentarios", "comentario",
            "observaciones"),
        1: ("description", "additional information", "additional info"),
    },
    "tags": {0: (
        "tags", "tag", "labels", "label", "étiquettes", "étiquette", "etiquetas", "etiqueta",
        "schlagwörter", "schlagworte",
    )},
    "status": {0: (
        "status", "lead status", "contact status", "prospect status", "statut",
        "statut du lead",
    )},
    None: {0: (
        # not lead fields, however much they look like one
        "email status", "email verified", "email verification", "email verification status",
        "email confidence", "email source", "primary email source", "secondary email source",
        "email catch-all status", "primary email catch-all status", "email opt out",
        "email opt in", "emailed at", "last emailed", "email domain", "email type",
        "email bounced", "email sent", "unsubscribed", "phone verified", "phone status",
        "phone type", "fax", "fax number", "fax phone", "company size", "company domain",
        "company website", "website", "company linkedin url", "company linkedin",
        "company address", "company street", "company city", "company state",
        "company country", "company postal code", "company phone number verified",
        "linkedin bio", "linkedin connections", "linkedin followers",
        "sales navigator url", "sales navigator profile url", "twitter url",
        "facebook url", "last contacted", "last activity date", "lead source", "source",
        "lead stage", "lifecycle stage", "stage", "county", "postal code", "zip",
        "zip code", "owner", "lead owner", "contact owner", "created at", "create date",
        "created date", "record id", "id", "salutation", "middle name", "nickname",
        "contract", "contracts", "amount", "industry", "seniority", "departments",
        "employees", "number of employees",
    )},
}

# Short or generic synonyms a typo match would hit by accident
# ("Contract" is one edit from "contact", "Votes" from "notes").
EXACT_ONLY: Final = frozenset({
    "contact", "account", "business", "region", "handy", "portable", "mobil", "notes",
    "note", "firma", "nombre", "numero", "label", "labels", "stadt", "state", "country",
    "status",
})
# A header holding one of these words (and the synonym not) is never a typo of it:
# dates, flags, counts and ids must not land on identity fields.
DENY_WORDS: Final = frozenset({
    "date", "dated", "time", "timestamp", "at", "on", "when", "day", "verified",
    "verification", "valid", "validated", "validity", "status", "count", "size", "id", "ids",
    "number", "num", "no", "nr", "type", "source", "score", "confidence", "owner", "domain",
    "created", "updated", "modified", "opened", "clicked", "replied", "bounced", "sent",
    "unsubscribed", "opt", "optin", "optout", "flag", "is", "has", "last", "first",
})
