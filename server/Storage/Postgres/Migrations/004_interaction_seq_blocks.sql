-- Interaction sequences are reserved in blocks: one nextval() returns the first of 4,096 values that no other
-- nextval() will return (the next call returns at least 4,096 more), so an import batch draws one value per block
-- instead of one per row (PostgresBuyerStore.SequenceBlock must equal this step). Values stay unique and, drawn
-- while the buyer rows are locked, ascending per buyer in commit order; the unused rest of a block is a gap.
ALTER TABLE interactions ALTER COLUMN seq SET INCREMENT BY 4096;
