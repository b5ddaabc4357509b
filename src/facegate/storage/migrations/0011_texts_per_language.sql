-- facegate 0011: the words a person reads, per language.
-- The processor's name, contact, province and security measures, a site's name and a
-- purpose's description, necessity, legal basis and mandate become JSON objects of
-- language to words (a key zh or en for each language written). Each existing text is kept exactly as
-- it was written, under the language its script shows: Chinese when it holds a Han
-- character, English otherwise. Nothing is translated: the other language is then
-- missing, and activating a purpose reports it (notice.incomplete, naming the field
-- and the language) until someone adds it. A blank text becomes no text.
-- A purpose gains a short name per language, at first its description.
-- Only these books change. Templates, consent events and the audit log are not
-- touched, tagged or re-signed: their protection is upgraded only by `facegate store
-- upgrade`, explicitly and audited. Alternatives, notices and assessments are JSON
-- already; their older single-language strings are read by their JSON type
-- (facegate.purposes.repository).

UPDATE processors SET
    name = CASE WHEN trim(name) = '' THEN '{{}}'
                ELSE {json_object}(CASE WHEN name {has_han} THEN 'zh' ELSE 'en' END, name) END,
    contact = CASE WHEN trim(contact) = '' THEN '{{}}'
                   ELSE {json_object}(CASE WHEN contact {has_han} THEN 'zh' ELSE 'en' END,
                                      contact) END,
    province = CASE WHEN trim(province) = '' THEN '{{}}'
                    ELSE {json_object}(CASE WHEN province {has_han} THEN 'zh' ELSE 'en' END,
                                       province) END,
    security_measures = CASE WHEN trim(security_measures) = '' THEN '{{}}'
                             ELSE {json_object}(CASE WHEN security_measures {has_han}
                                                     THEN 'zh' ELSE 'en' END,
                                                security_measures) END;

UPDATE sites SET
    name = CASE WHEN trim(name) = '' THEN '{{}}'
                ELSE {json_object}(CASE WHEN name {has_han} THEN 'zh' ELSE 'en' END, name) END;

UPDATE purposes SET
    description = CASE WHEN trim(description) = '' THEN '{{}}'
                       ELSE {json_object}(CASE WHEN description {has_han} THEN 'zh' ELSE 'en' END,
                                          description) END,
    necessity = CASE WHEN trim(necessity) = '' THEN '{{}}'
                     ELSE {json_object}(CASE WHEN necessity {has_han} THEN 'zh' ELSE 'en' END,
                                        necessity) END,
    legal_basis = CASE WHEN trim(legal_basis) = '' THEN '{{}}'
                       ELSE {json_object}(CASE WHEN legal_basis {has_han} THEN 'zh' ELSE 'en' END,
                                          legal_basis) END,
    mandate = CASE WHEN mandate IS NULL OR trim(mandate) = '' THEN NULL
                   ELSE {json_object}(CASE WHEN mandate {has_han} THEN 'zh' ELSE 'en' END,
                                      mandate) END;

ALTER TABLE purposes ADD COLUMN name TEXT NOT NULL DEFAULT '{{}}';

UPDATE purposes SET name = description;
