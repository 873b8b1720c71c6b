build/common/db.o: common/db.c common/db.h common/config.h \
 common/crypto.h common/util.h common/log.h common/mp.h
common/db.h:
common/config.h:
common/crypto.h:
common/util.h:
common/log.h:
common/mp.h:
