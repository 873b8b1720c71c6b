build/common/stage.o: common/stage.c common/log.h common/stage.h \
 common/config.h common/util.h
common/log.h:
common/stage.h:
common/config.h:
common/util.h:
