-- Rapport schema v11: the evidence of an idea is what was linked to it and every item merged
-- into what was linked. A near-duplicate merged into a linked item is the same request from
-- another customer: that customer asked too, and is told when it ships. Read through this view,
-- so a merge or unmerge after linking changes who asked at once; an item linked and also merged
-- into another linked item counts once.
CREATE VIEW idea_evidence AS
    SELECT idea_id, feedback_id, linked_at, linked_by FROM idea_feedback
    UNION ALL
    SELECT l.idea_id, f.id, l.linked_at, l.linked_by
      FROM idea_feedback l JOIN feedback f ON f.duplicate_of = l.feedback_id
     WHERE NOT EXISTS (SELECT 1 FROM idea_feedback x
                        WHERE x.idea_id = l.idea_id AND x.feedback_id = f.id);
